"""Each Marketplace rule passes the real package and fails a package built to break it."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tests.marketplace.packages import ELF, check, good_package, matching, text_of, variant, wheel_with_so
from tools.marketplace import contents
from tools.marketplace.findings import ERROR, EXPECTED, WARNING

# A made-up key with the alphabet and entropy of real key material (never a real credential).
FAKE_TOKEN = "Zq8XvT3mKp9LwR2nYb7HcJ4dFs6GtA1e"
DECLARED_DOMAINS = "network:\n  domains:\n    - '*.acme.example'\n"
TEMPLATE_ICON = (
    b'<svg width="100" height="100" xmlns="http://www.w3.org/2000/svg">\n  <path d="M20 20 V80 M20 20 H60 '
    b'Q80 20 80 40 T60 60 H20"\n fill="none" stroke="black" stroke-width="5"/>\n</svg>\n'
)


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return good_package(tmp_path_factory.mktemp("good"))


def _edit(name: str, old: str, new: str):
    def change(base: Path) -> dict:
        text = text_of(base, name)
        assert old in text, f"{old!r} not in {name}"
        return {"put": {name: text.replace(old, new, 1).encode()}}

    return change


def _append(name: str, extra: str):
    return lambda base: {"put": {name: (text_of(base, name) + extra).encode()}}


def _add(name: str, data: bytes):
    return lambda _base: {"put": {name: data}}


CASES = {
    # manifest metadata
    "repo missing": (_edit("manifest.yaml", "repo: ", "homepage: "), "manifest", ERROR, "repo is missing"),
    "contact not an e-mail": (_edit("manifest.yaml", "plugins@acme.example", "acme"),
        "manifest", ERROR, "contact"),
    "repo on another host": (
        _edit("manifest.yaml", "https://github.com/acme", "https://code.acme.example/acme"),
        "manifest", ERROR, "accepted source host",
    ),
    "author claims dify": (_edit("manifest.yaml", "author: xinference-community", "author: dify-team"),
                           "manifest", ERROR, "must not contain 'dify'"),
    "no minimum_dify_version": (_edit("manifest.yaml", "minimum_dify_version", "x_minimum"),
                                "manifest", WARNING, "minimum_dify_version"),
    # what the daemon refuses
    "daemon: one architecture": (_edit("manifest.yaml", "    - arm64\n", ""), "daemon", ERROR, "meta.arch"),
    # icon
    "icon missing": (lambda b: {"drop": ("_assets/icon_s_en.svg",)}, "icon", ERROR, "not packaged"),
    "icon has the template marker": (
        _add("_assets/icon_s_en.svg", b"<svg><!-- DIFY_MARKETPLACE_TEMPLATE_ICON_DO_NOT_USE --></svg>"),
        "icon", ERROR, "placeholder icon",
    ),
    "icon is the template drawing": (_add("_assets/icon_s_en.svg", TEMPLATE_ICON),
        "icon", ERROR, "placeholder icon"),
    # privacy
    "PRIVACY.md missing": (lambda b: {"drop": ("PRIVACY.md",)}, "privacy", ERROR, "PRIVACY.md"),
    "privacy is the template": (_add("PRIVACY.md", b"Please fill in the privacy policy of the plugin."),
                                "privacy", ERROR, "placeholder"),
    "privacy discloses nothing": (_add("PRIVACY.md", b"# Privacy\n\nThis plugin is nice.\n"),
                                  "privacy", WARNING, "says nothing"),
    "privacy URL not http": (_edit("manifest.yaml", "privacy: PRIVACY.md", "privacy: ftp://acme.example/p"),
                             "privacy", ERROR, "http(s)"),
    # README
    "README without a source URL": (
        _edit("README.md", "- Source repository: https://github.com/acme/xinference-dify-plugin", ""),
        "readme", ERROR, "source repository URL",
    ),
    "README with CJK prose": (_append("README.md", "\n默认音色\n"), "readme", ERROR, "4 CJK characters"),
    "README translation misnamed": (_add("README_zh.md", b"# x\n"), "readme", WARNING, "README.<locale>.md"),
    # contents
    ".env packaged": (_add(".env", b"X=1\n"), "contents", ERROR, ".env: must not be packaged"),
    "bytecode packaged": (_add("models/__pycache__/x.cpython-312.pyc", b"\0"),
        "contents", ERROR, "__pycache__"),
    "git data packaged": (_add(".git/config", b"[core]\n"), "contents", ERROR, ".git"),
    "a log file": (_add("debug.log", b"x\n"), "contents", ERROR, ".log file"),
    "a dist directory": (_add("dist/notes.txt", b"x\n"), "contents", WARNING, "build/ or dist/"),
    "an archive": (_add("_assets/extra.zip", b"PK\x05\x06" + b"\0" * 18), "contents", WARNING, "archive"),
    "over 50 MiB unpacked": (_add("_assets/big.dat", b"\0" * (50 * 1024 * 1024 + 1)),
        "contents", ERROR, "unpacked files"),
    # secrets
    "vendor-shaped key": (_add("models/leak.py", b'KEY = "sk-' + b"a1" * 15 + b'"\n'),
        "secrets", ERROR, "OpenAI-style"),
    "private key block": (_add("models/key.txt", b"-----BEGIN RSA PRIVATE KEY-----\n"),
        "secrets", ERROR, "private key"),
    "quoted key material": (_add("provider/extra.yaml", f'api_key: "{FAKE_TOKEN}"\n'.encode()),
                            "secrets", ERROR, "secret-like value"),
    # binaries
    "an ELF file": (_add("models/helper.dat", ELF), "binaries", ERROR, "ELF"),
    "a .so file": (_add("models/fast.so", b"not really"), "binaries", ERROR, ".so"),
    "the daemon binary": (_add("dify-plugin-linux-amd64", b"#!x"), "binaries", ERROR, "plugin daemon binary"),
    "a wheel with compiled code": (
        _add("wheels/fast-1.0-cp312-cp312-manylinux_2_28_x86_64.whl", wheel_with_so()),
        "binaries", WARNING, "1 compiled file",
    ),
    # dependencies
    "unpinned dependency": (_append("requirements.txt", "somepackage\n"),
        "dependencies", ERROR, "no version constraint"),
    "bare --no-index in a normal package": (_append("requirements.txt", "--no-index\n"),
        "dependencies", ERROR, "--no-index"),
    "git dependency": (_append("requirements.txt", "x @ git+https://github.com/a/b\n"),
        "dependencies", ERROR, "git install"),
    "old dify_plugin": (_edit("requirements.txt", "dify-plugin==0.10.2", "dify-plugin==0.8.0"),
                        "dependencies", ERROR, ">= 0.9.0"),
    "a large dependency": (_append("requirements.txt", "torch==2.9.0\n"), "dependencies", WARNING, "large"),
    "lower bound only": (_append("requirements.txt", "somepackage>=1.0\n"),
        "dependencies", WARNING, "lower bound"),
    "pyproject.toml packaged": (_add("pyproject.toml", b"[project]\n"),
        "dependencies", ERROR, "pyproject.toml"),
    # Python
    "Python that does not compile": (_add("models/broken.py", b"def (:\n"),
        "python-compile", ERROR, "does not compile"),
    "requests without timeout": (_add("models/fetch.py", b"import requests\nrequests.get(URL)\n"),
                                 "python-safety", WARNING, "without a timeout"),
    "a key in a log line": (_add("models/talk.py", b"import logging\nlogging.info('k %s', api_key)\n"),
                            "python-safety", WARNING, "log call"),
    "financial wording": (_append("README.md", "\nIt can process payments.\n"),
        "financial", WARNING, "payments"),
    # access domains and capabilities
    "a private address as example": (_edit("provider/xinference.yaml", "xinference.local", "192.168.1.10"),
                                     "domains", WARNING, "192.168.1.10"),
    "a host in code": (_add("models/other.py", b'URL = "https://api.other-vendor.com/v1"\n'),
                       "domains", WARNING, "api.other-vendor.com"),
    "an undeclared domain": (
        lambda b: {
            "put": {
                "models/other.py": b'URL = "https://api.other-vendor.com/v1"\n',
                "manifest.yaml": (text_of(b, "manifest.yaml") + DECLARED_DOMAINS).encode(),
            }
        },
        "domains", WARNING, "not declared in manifest network.domains: api.other-vendor.com",
    ),
    "running commands": (_add("models/run.py", b"import subprocess\nsubprocess.run(['ls'])\n"),
                         "capabilities", WARNING, "command execution"),
}  # fmt: skip


def test_the_real_package_passes_every_rule(base, tmp_path):
    found = check(base, tmp_path)
    assert [f for f in found if f.level == ERROR] == []
    # What remains are the warnings the submission notes explain: tiktoken and the safety scan's names.
    (tiktoken,) = matching(found, "secrets", WARNING)
    assert tiktoken.startswith("requirements.txt:") and tiktoken.endswith(
        "`tiktoken` looks like a secret field (review)"
    )
    assert {f.rule for f in found} <= {"secrets", "python-safety"}


@pytest.mark.parametrize("case", list(CASES))
def test_a_package_breaking_the_rule_is_caught(case, base, tmp_path):
    change, rule, level, text = CASES[case]
    broken = variant(base, tmp_path / "broken.difypkg", **change(base))
    hits = matching(check(broken, tmp_path, only=rule), rule, level)
    assert any(text in message for message in hits), f"{rule} {level}: {hits}"


def test_an_executable_bit_is_reported(base, tmp_path):
    broken = variant(
        base, tmp_path / "x.difypkg", put={"models/run.sh": b"#!/bin/sh\n"}, modes={"models/run.sh": 0o755}
    )
    hits = matching(check(broken, tmp_path, only="binaries"), "binaries", WARNING)
    assert (
        "models/run.sh: has the executable bit" in hits
        and "models/run.sh: script or binary-like suffix .sh" in hits
    )


def test_too_many_files(base, tmp_path, monkeypatch):
    """The 5000-file cap, lowered so the test needs a few dozen files instead of thousands."""
    count = len(zipfile.ZipFile(base).namelist())
    monkeypatch.setattr(contents, "MAX_FILES", count + 5)
    assert matching(check(base, tmp_path, only="contents"), "contents", ERROR) == []
    broken = variant(base, tmp_path / "many.difypkg", put={f"_assets/many/{i}.txt": b"" for i in range(6)})
    assert matching(check(broken, tmp_path, only="contents"), "contents", ERROR) == [
        f"{count + 6} files > {count + 5}"
    ]


def test_what_is_not_a_finding(base, tmp_path):
    """CJK in code blocks, an expression reading a key, reserved example names and doc links are fine."""
    put = {
        "README.md": (text_of(base, "README.md") + "\n```\n默认音色\n```\n").encode(),
        "models/read.py": b'api_key = credentials.get("api_key")\nURL = "http://xinference.local:9997"\n',
        "provider/more.yaml": b"help:\n  url:\n    en_US: https://vendor-docs.other.com/\n",
    }
    found = check(variant(base, tmp_path / "ok.difypkg", put=put), tmp_path)
    assert [f for f in found if f.level == ERROR] == []
    assert not [f for f in found if f.rule in ("domains", "readme")]


def test_an_offline_package_may_keep_no_index_on_its_own_line(base, tmp_path):
    """Offline packages carry wheels/; uv cannot read `--find-links ./wheels --no-index` on one line."""
    requirements = text_of(base, "requirements.txt").replace(
        "annotated", "--no-index\n--find-links ./wheels\nannotated", 1
    )
    put = {"requirements.txt": requirements.encode(), "wheels/fast-1.0-py3-none-any.whl": wheel_with_so()}
    found = check(variant(base, tmp_path / "off.difypkg", put=put), tmp_path, only="dependencies")
    assert matching(found, "dependencies", ERROR) == []
    assert any("uv" in message for message in matching(found, "dependencies", EXPECTED))
