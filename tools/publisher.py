"""Publisher settings: the source repository URL and contact e-mail written into a built package.

They belong to whoever publishes the package, so the repository never holds them: they come from
`make package REPO_URL=… CONTACT=…` (the environment variables REPO_URL and CONTACT) or from the
git-ignored `publisher.local.yaml` (`repo:` and `contact:`), the command line winning. When given,
the packaged manifest.yaml gets `repo` and `contact`, and every packaged README a "Source and
contact" section; the tree itself is never edited. Without them a package is still fine for a
private install, but the Marketplace refuses it (`make marketplace-package` stops first).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

LOCAL_FILE = "publisher.local.yaml"
# The forges the Marketplace accepts for a plugin's source (its manifest `repo` and README link).
SOURCE_HOSTS = ("github.com", "gitlab.com", "bitbucket.org", "gitee.com", "codeberg.org", "git.sr.ht")
_HOSTS = "|".join(re.escape(host) for host in SOURCE_HOSTS)
REPO_URL_RE = re.compile(rf"^https?://(?:www\.)?(?:{_HOSTS})/[^\s)>\"]+$", re.IGNORECASE)
REPO_LINK_RE = re.compile(rf"https?://(?:www\.)?(?:{_HOSTS})/[^\s)>\"]+", re.IGNORECASE)
EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$")
HOW_TO_SET = (
    "pass them as `make marketplace-package REPO_URL=https://github.com/<owner>/<repo> "
    "CONTACT=you@example.org`, "
    f"or write them to {LOCAL_FILE} (git-ignored) as `repo: …` and `contact: …`"
)
# Heading of the section appended to each packaged README, per README file.
SECTION_TITLES = {
    "README.md": ("Source and contact", "Source repository", "Contact"),
    "README.zh_Hans.md": ("源代码与联系方式", "源代码仓库", "联系方式"),
    "README.ja_JP.md": ("ソースコードと連絡先", "ソースリポジトリ", "連絡先"),
}


class PublisherError(Exception):
    """Publisher settings are missing where required, or malformed."""


@dataclass(frozen=True)
class Publisher:
    repo: str
    contact: str


def settings_problems(repo: str, contact: str) -> list[str]:
    problems = []
    if repo and not REPO_URL_RE.match(repo):
        problems.append(
            f"REPO_URL {repo!r} must be an http(s) URL on one of {', '.join(SOURCE_HOSTS)} "
            "(the hosts the Marketplace accepts for a plugin's source)"
        )
    if contact and not EMAIL_RE.match(contact):
        problems.append(f"CONTACT {contact!r} must be an e-mail address")
    return problems


def load(root: Path, repo: str | None = None, contact: str | None = None) -> Publisher | None:
    """The settings from arguments, then the environment, then publisher.local.yaml; None when unset."""
    local: dict = {}
    path = root / LOCAL_FILE
    if path.is_file():
        local = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(local, dict):
            raise PublisherError(f"{LOCAL_FILE} must be a mapping with `repo:` and `contact:`")
    repo = (repo or os.environ.get("REPO_URL") or str(local.get("repo") or "")).strip()
    contact = (contact or os.environ.get("CONTACT") or str(local.get("contact") or "")).strip()
    if problems := settings_problems(repo, contact):
        raise PublisherError("; ".join(problems))
    if not repo and not contact:
        return None
    if not (repo and contact):
        missing = "CONTACT" if repo else "REPO_URL"
        raise PublisherError(f"{missing} is missing: give both or neither; {HOW_TO_SET}")
    return Publisher(repo, contact)


def require(publisher: Publisher | None) -> Publisher:
    if publisher is None:
        raise PublisherError(
            "the Marketplace needs the publisher's source repository URL and contact e-mail, and this "
            f"project never invents them: {HOW_TO_SET}"
        )
    return publisher


def _manifest(text: str, publisher: Publisher) -> str:
    current = yaml.safe_load(text) or {}
    for key, value in (("repo", publisher.repo), ("contact", publisher.contact)):
        if current.get(key) not in (None, "", value):
            raise PublisherError(
                f"manifest.yaml already sets {key}: {current[key]!r}; remove it from the tree"
            )
    extra = "".join(
        f"{key}: {yaml.safe_dump(value, default_style=chr(34)).strip()}\n"
        for key, value in (("repo", publisher.repo), ("contact", publisher.contact))
        if not current.get(key)
    )
    return text if not extra else text.rstrip("\n") + "\n" + extra


def _readme(text: str, name: str, publisher: Publisher) -> str:
    title, repo_label, contact_label = SECTION_TITLES[name]
    section = f"## {title}\n\n- {repo_label}: {publisher.repo}\n- {contact_label}: <{publisher.contact}>\n"
    return text.rstrip("\n") + "\n\n" + section


def packaged_files(root: Path, publisher: Publisher | None) -> dict[str, bytes]:
    """Replacement contents for the packaged manifest and READMEs; empty without publisher settings."""
    if publisher is None:
        return {}
    files = {"manifest.yaml": _manifest((root / "manifest.yaml").read_text(encoding="utf-8"), publisher)}
    for name in SECTION_TITLES:
        if (root / name).is_file():
            files[name] = _readme((root / name).read_text(encoding="utf-8"), name, publisher)
    return {name: text.encode("utf-8") for name, text in files.items()}
