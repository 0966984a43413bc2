"""Manifest, icon, privacy policy and README: what a reviewer reads first."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from tools.marketplace.findings import ERROR, WARNING, Finding, Package, findings
from tools.package_inspect import inspect_package
from tools.publisher import EMAIL_RE, REPO_LINK_RE, REPO_URL_RE, SOURCE_HOSTS

# Fields the Marketplace requires to be present and non-empty (dotted paths into manifest.yaml).
REQUIRED = (
    "author", "name", "version", "type", "icon", "plugins", "privacy", "repo", "contact",
    "label.en_US", "description.en_US", "meta.version", "meta.arch",
    "meta.runner.language", "meta.runner.version", "meta.runner.entrypoint",
)  # fmt: skip
RECOMMENDED = ("meta.minimum_dify_version",)
RESERVED_AUTHOR_WORDS = ("langgenius", "dify")  # imply first-party authorship
PRIVACY_TEMPLATE = "please fill in the privacy policy"
# A privacy policy should say something about at least one of these (collection, storage, sharing …).
DISCLOSURE_WORDS = (
    "collect", "store", "storage", "retain", "retention", "persist", "log", "third party",
    "third-party", "share", "send", "transmit", "external service", "personal data", "user data",
)  # fmt: skip
ICON_TEMPLATE_MARKER = "DIFY_MARKETPLACE_TEMPLATE_ICON_DO_NOT_USE"
# The drawing of the plugin template's placeholder icon (a "P"), whitespace removed.
ICON_TEMPLATE_PATH = "M2020V80M2020H60Q80208040T6060H20"
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
FENCED = re.compile(r"```.*?```", re.DOTALL)
README_LOCALE_OK = re.compile(r"^README\.[A-Za-z]{2,3}(?:[_-][A-Za-z0-9]+)?\.md$")
README_LOCALE_NEAR = re.compile(r"^README[._-][A-Za-z]{2,3}(?:[_-][A-Za-z0-9]+)?\.md$")
# Topics a README should cover, each with words that show it does (missing ones are warnings).
README_TOPICS = {
    "setup instructions": ("install", "setup", "configure", "configuration", "getting started"),
    "usage instructions": ("usage", "use", "example", "workflow", "chatflow"),
    "required APIs or credentials": ("api key", "credential", "token", "secret", "auth"),
    "connection requirements": ("connect", "endpoint", "base url", "host", "proxy", "network"),
}


def _value(manifest: dict, dotted: str) -> object:
    for key in dotted.split("."):
        manifest = manifest.get(key) if isinstance(manifest, dict) else None
    return manifest


def manifest_rule(pkg: Package) -> list[Finding]:
    manifest = pkg.manifest()
    if not manifest:
        return findings("manifest", ERROR, ["manifest.yaml is missing or not a YAML mapping"])
    errors = [
        f"manifest.yaml: required field {f} is missing or empty" for f in REQUIRED if not _value(manifest, f)
    ]
    warnings = [
        f"manifest.yaml: recommended field {f} is missing" for f in RECOMMENDED if not _value(manifest, f)
    ]
    author = str(manifest.get("author") or "")
    errors += [f"manifest.yaml: author must not contain {w!r}" for w in RESERVED_AUTHOR_WORDS if w in author]
    if manifest.get("type") not in (None, "plugin"):
        errors.append("manifest.yaml: type must be 'plugin'")
    repo, contact = str(manifest.get("repo") or ""), str(manifest.get("contact") or "")
    if repo and not REPO_URL_RE.match(repo):
        errors.append(
            f"manifest.yaml: repo {repo!r} is not on an accepted source host ({', '.join(SOURCE_HOSTS)})"
        )
    if contact and not EMAIL_RE.match(contact):
        errors.append(f"manifest.yaml: contact {contact!r} is not an e-mail address")
    return findings("manifest", ERROR, errors) + findings("manifest", WARNING, warnings)


def daemon_rule(pkg: Package) -> list[Finding]:
    """What the plugin daemon itself would refuse (the workflow's packaging step runs the daemon)."""
    return findings("daemon", ERROR, inspect_package(pkg.path))


def privacy_rule(pkg: Package) -> list[Finding]:
    errors = [] if "PRIVACY.md" in pkg.names else ["PRIVACY.md is missing from the package root"]
    reference = str(pkg.manifest().get("privacy") or "")
    if not reference or reference.startswith(("http://", "https://")):
        return findings("privacy", ERROR, errors)
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", reference):
        return findings("privacy", ERROR, [*errors, f"manifest privacy {reference!r}: a URL must be http(s)"])
    name = reference.removeprefix("./")
    if PurePosixPath(name).is_absolute() or ".." in PurePosixPath(name).parts:
        return findings(
            "privacy", ERROR, [*errors, f"manifest privacy {reference!r} points outside the package"]
        )
    text = pkg.text(name)
    if text is None:
        return findings("privacy", ERROR, [*errors, f"manifest privacy names {name}, which is not packaged"])
    lowered = text.lower()
    if not lowered.strip():
        errors.append(f"{name} is empty")
    elif PRIVACY_TEMPLATE in lowered:
        errors.append(f"{name} still holds the template's placeholder text")
    elif not any(word in lowered for word in DISCLOSURE_WORDS):
        return findings(
            "privacy", WARNING, [f"{name} says nothing about collecting, storing or sharing data"]
        )
    return findings("privacy", ERROR, errors)


def icon_rule(pkg: Package) -> list[Finding]:
    icon = str(pkg.manifest().get("icon") or "")
    text = pkg.text(f"_assets/{icon}") if icon else None
    if text is None:
        return findings("icon", ERROR, [f"manifest icon {icon!r}: _assets/{icon} is not packaged"])
    compact = re.sub(r"\s+", "", text)
    if ICON_TEMPLATE_MARKER in text or (ICON_TEMPLATE_PATH in compact and compact.count("<path") == 1):
        return findings("icon", ERROR, [f"_assets/{icon} is the plugin template's placeholder icon"])
    return []


def readme_rule(pkg: Package) -> list[Finding]:
    text = pkg.text("README.md")
    if not (text or "").strip():
        return findings("readme", ERROR, ["README.md is missing or empty"])
    errors, warnings = [], []
    if not REPO_LINK_RE.search(text):
        errors.append(
            f"README.md names no source repository URL on {', '.join(SOURCE_HOSTS)} "
            "(build with REPO_URL=… CONTACT=…, see tools/publisher.py)"
        )
    if count := len(CJK.findall(FENCED.sub("", text))):
        errors.append(
            f"README.md has {count} CJK characters outside code blocks: keep it English, "
            "and put translations in README.<locale>.md"
        )
    for name in pkg.names:
        if "/" not in name and README_LOCALE_NEAR.match(name) and not README_LOCALE_OK.match(name):
            warnings.append(f"{name}: the Marketplace reads translations only as README.<locale>.md")
    lowered = text.lower()
    warnings += [
        f"README.md may lack {t}"
        for t, words in README_TOPICS.items()
        if not any(w in lowered for w in words)
    ]
    return findings("readme", ERROR, errors) + findings("readme", WARNING, warnings)
