"""Publisher settings: never in the tree, packaged only when given, required for the Marketplace."""

from __future__ import annotations

import shutil

import pytest
import yaml

from tests.marketplace.packages import PUBLISHER, ROOT, good_package, text_of
from tools import package as package_tool
from tools.marketplace import __main__ as marketplace
from tools.publisher import LOCAL_FILE, REPO_LINK_RE, Publisher, PublisherError, load, packaged_files, require


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """A copy of the plugin's metadata files with no publisher settings anywhere."""
    for name in ("manifest.yaml", "README.md", "README.zh_Hans.md", "README.ja_JP.md"):
        if (ROOT / name).is_file():
            shutil.copy(ROOT / name, tmp_path / name)
    monkeypatch.delenv("REPO_URL", raising=False)
    monkeypatch.delenv("CONTACT", raising=False)
    return tmp_path


def test_the_repository_holds_no_publisher_settings():
    manifest = yaml.safe_load((ROOT / "manifest.yaml").read_text(encoding="utf-8"))
    assert "repo" not in manifest and "contact" not in manifest
    assert (
        LOCAL_FILE in (ROOT / ".gitignore").read_text() and LOCAL_FILE in (ROOT / ".difyignore").read_text()
    )
    for readme in (
        "README.md",
        "README.zh_Hans.md",
        "README.ja_JP.md",
    ):  # no link that passes for a source URL
        assert not REPO_LINK_RE.search((ROOT / readme).read_text(encoding="utf-8")), readme


def test_settings_come_from_arguments_then_environment_then_the_local_file(tree, monkeypatch):
    assert load(tree) is None
    (tree / LOCAL_FILE).write_text("repo: https://gitee.com/a/b\ncontact: a@b.example\n")
    assert load(tree) == Publisher("https://gitee.com/a/b", "a@b.example")
    monkeypatch.setenv("REPO_URL", "https://codeberg.org/c/d")
    assert load(tree).repo == "https://codeberg.org/c/d"
    assert load(tree, repo="https://gitlab.com/e/f").repo == "https://gitlab.com/e/f"


@pytest.mark.parametrize(
    ("repo", "contact", "why"),
    [
        ("https://github.com/a/b", "", "CONTACT is missing"),
        ("", "a@b.example", "REPO_URL is missing"),
        ("https://selfhosted.example/a/b", "a@b.example", "on one of github.com"),
        ("https://github.com/a/b", "not-an-address", "must be an e-mail address"),
    ],
)
def test_incomplete_or_malformed_settings_are_refused(tree, repo, contact, why):
    with pytest.raises(PublisherError, match=why):
        load(tree, repo, contact)


def test_the_marketplace_build_refuses_without_settings(tree):
    with pytest.raises(
        PublisherError, match=r"never invents them.*REPO_URL=.*CONTACT=.*publisher\.local\.yaml"
    ):
        require(load(tree))


def test_make_marketplace_package_refuses_with_a_clear_message(tree, monkeypatch, capsys):
    monkeypatch.setattr(marketplace, "ROOT", tree)
    assert marketplace.main(["--build"]) == 2
    assert "make marketplace-package: refused:" in capsys.readouterr().err
    assert not (tree / "dist").exists()


def test_the_normal_build_works_without_settings(tmp_path, monkeypatch):
    monkeypatch.delenv("REPO_URL", raising=False)
    monkeypatch.delenv("CONTACT", raising=False)
    monkeypatch.setattr(
        "tools.package.load", lambda root, repo, contact: None
    )  # ignore a developer's local file
    assert package_tool.main(["--out", str(tmp_path)]) == 0
    (built,) = tmp_path.glob("*.difypkg")
    assert "repo" not in yaml.safe_load(text_of(built, "manifest.yaml"))


def test_settings_reach_the_packaged_manifest_and_readmes(tmp_path):
    built = good_package(tmp_path)
    manifest = yaml.safe_load(text_of(built, "manifest.yaml"))
    assert (manifest["repo"], manifest["contact"]) == (PUBLISHER.repo, PUBLISHER.contact)
    for name in ("README.md", "README.zh_Hans.md", "README.ja_JP.md"):
        assert text_of(built, name).rstrip().endswith(f"<{PUBLISHER.contact}>") and PUBLISHER.repo in text_of(
            built, name
        )
    assert text_of(built, "manifest.yaml").startswith((ROOT / "manifest.yaml").read_text(encoding="utf-8"))


def test_settings_never_contradict_the_tree(tree):
    (tree / "manifest.yaml").write_text(
        (tree / "manifest.yaml").read_text() + "repo: https://github.com/x/y\n"
    )
    with pytest.raises(PublisherError, match="already sets repo"):
        packaged_files(tree, PUBLISHER)
