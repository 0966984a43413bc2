"""`make marketplace-check`: the exit code, the report and the submission notes it writes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.marketplace.packages import good_package, text_of, variant
from tools.marketplace.__main__ import main

UV = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "uv"


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return good_package(tmp_path_factory.mktemp("good"))


def test_a_good_package_passes_and_gets_its_notes(base, tmp_path, capsys):
    notes = tmp_path / "pr.md"
    assert main([str(base), "--no-install", "--notes", str(notes)]) == 0
    out = capsys.readouterr().out
    assert "0 error(s)" in out and "[SKIP] dependency-vulnerabilities" in out and "[SKIP] install" in out
    assert notes.read_text(encoding="utf-8").startswith("# Plugin Submission")


def test_a_package_without_publisher_settings_fails(base, tmp_path, capsys):
    manifest = "\n".join(
        line for line in text_of(base, "manifest.yaml").splitlines() if not line.startswith("repo")
    )
    broken = variant(base, tmp_path / "b.difypkg", put={"manifest.yaml": manifest.encode()})
    assert main([str(broken), "--no-install", "--notes", str(tmp_path / "pr.md")]) == 1
    out = capsys.readouterr().out
    assert "[FAIL] manifest" in out and "[FAIL] submission-notes" in out


@pytest.mark.skipif(not UV.exists(), reason="uv comes with requirements-dev.txt")
def test_uv_cannot_read_no_index_after_find_links(tmp_path):
    """Why offline packages keep `--no-index` on its own line (the Marketplace parser prefers one)."""
    (tmp_path / "wheels").mkdir()
    results = {}
    for name, first in (
        ("one-line", "--find-links ./wheels --no-index"),
        ("ours", "--no-index\n--find-links ./wheels"),
    ):
        (tmp_path / f"{name}.txt").write_text(f"{first}\nsix==1.16.0\n")
        done = subprocess.run(
            [str(UV), "pip", "compile", "--no-cache", "--quiet", f"{name}.txt"],
            cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        results[name] = done.stderr
    assert "./wheels --no-index" in results["one-line"]  # read as one URL
    assert "not found in the provided package locations" in results["ours"]  # parsed; no index read
