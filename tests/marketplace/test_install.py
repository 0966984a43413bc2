"""The workflow's install and start steps: pip into a fresh venv, then `python -m main` in serverless mode."""

from __future__ import annotations

import pytest

from tests.e2e.packaged import fresh_venv
from tests.marketplace.packages import good_package, text_of, variant
from tools.marketplace import install
from tools.marketplace.findings import ERROR, Package

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return good_package(tmp_path_factory.mktemp("good"))


def test_a_requirement_that_cannot_be_installed_fails(base, tmp_path):
    """pip's own failure is reported (the index is switched off here: tests never reach one)."""
    broken = variant(
        base, tmp_path / "b.difypkg", put={"requirements.txt": b"definitely-not-a-real-package==1.0\n"}
    )
    python, found = install.install(
        Package.unpack(broken, tmp_path / "p"), tmp_path, pip_args=("--no-index",)
    )
    assert python is None
    assert [f.rule for f in found] == ["install"] and found[0].level == ERROR
    assert "definitely-not-a-real-package" in found[0].message


def test_the_real_package_starts_serverless(base, tmp_path):
    pkg = Package.unpack(base, tmp_path / "p")
    assert install.serverless_start(pkg, fresh_venv(pkg.root / "requirements.txt")) == []


def test_a_plugin_that_crashes_at_start_fails(base, tmp_path):
    main = "raise SystemExit('broken on purpose')\n" + text_of(base, "main.py")
    pkg = Package.unpack(
        variant(base, tmp_path / "b.difypkg", put={"main.py": main.encode()}), tmp_path / "p"
    )
    found = install.serverless_start(pkg, fresh_venv(pkg.root / "requirements.txt"))
    assert [f.rule for f in found] == ["serverless-start"]
    assert "no HTTP answer" in found[0].message and "broken on purpose" in found[0].message


def test_an_offline_package_for_another_cpu_is_resolved_not_started(base, tmp_path, monkeypatch):
    other = "arm64" if install.HOST_ARCH == "amd64" else "amd64"
    wheel = {"arm64": "aarch64", "amd64": "x86_64"}[other]
    put = {f"wheels/x-1.0-cp312-cp312-manylinux_2_28_{wheel}.whl": b"PK\x05\x06" + b"\0" * 18}
    pkg = Package.unpack(variant(base, tmp_path / "o.difypkg", put=put), tmp_path / "p")
    seen = []
    monkeypatch.setattr(
        install, "resolution_problems", lambda root, arch: seen.append(arch) or ["x is missing"]
    )
    python, found = install.install(pkg, tmp_path)
    assert python is None and seen == [other]
    assert [(f.rule, f.message) for f in found] == [("install", "x is missing")]
