"""Build, unpack and install the .difypkg the way the Marketplace pipeline checks it.

The fresh venv (Python 3.12, only the package's requirements.txt) is cached in .cache/ under the hash
of that requirements.txt. Installing it needs the package index, so pytest never does it: `make
test-setup` (a prerequisite of `make test`) runs `python -m tests.e2e.packaged`, and a test run that
finds no venv for the current requirements fails (CI=true) or skips, saying to run that step.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

from tools.console.runtime import REPO_ROOT
from tools.packaging.package import build_package

CACHE = REPO_ROOT / ".cache"
INSTALL_TIMEOUT = 900  # a cold install from the local indexes; generous only to prevent a hang


def python312() -> str:
    out = subprocess.run(
        [str(REPO_ROOT / "scripts" / "find-python312.sh")],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return out.stdout.strip()


def build_and_unpack(workdir: Path) -> Path:
    package = build_package(REPO_ROOT, workdir / "dist")
    target = workdir / "plugin"
    with zipfile.ZipFile(package) as archive:
        archive.extractall(target)
    return target


def clean_env(home: Path) -> dict[str, str]:
    """Nothing from the developer's setup may help the package: no PYTHONPATH, no user site, empty HOME."""
    return {"PYTHONPATH": "", "PYTHONNOUSERSITE": "1", "HOME": str(home), "PYTHONDONTWRITEBYTECODE": "1"}


def _venv_for(requirements: Path) -> Path:
    return CACHE / f"pkg-venv-{hashlib.sha256(requirements.read_bytes()).hexdigest()[:16]}"


def fresh_venv(requirements: Path) -> Path:
    """The prepared venv holding exactly `requirements` (from the unpacked package); returns its python.

    Never installs (that would reach the package index from inside pytest)."""
    venv = _venv_for(requirements)
    if not (venv / ".complete").is_file():
        why = f"no venv for this requirements.txt ({venv.name}): run `make test-setup` first"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(why, pytrace=False)
        pytest.skip(why)
    return venv / "bin" / "python"


def prepare_venv(requirements: Path) -> Path:
    """Build (or reuse) the venv for `requirements`; the setup step, with the index. Returns its python."""
    CACHE.mkdir(exist_ok=True)
    # Several runs may share this working tree; one builds, the others wait and reuse.
    with open(CACHE / "pkg-venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _prepare_venv_locked(requirements)


def _prepare_venv_locked(requirements: Path) -> Path:
    venv = _venv_for(requirements)
    python = venv / "bin" / "python"
    if (venv / ".complete").is_file():
        return python
    for old in CACHE.glob("pkg-venv-*"):  # stale hashes and half-built attempts
        shutil.rmtree(old, ignore_errors=True)
    subprocess.run([python312(), "-m", "venv", str(venv)], check=True, timeout=120)
    pip = [
        str(python),
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "-r",
        str(requirements),
    ]
    done = subprocess.run(pip, capture_output=True, text=True, check=False, timeout=INSTALL_TIMEOUT)
    if done.returncode != 0:  # an incomplete or broken requirements.txt fails here or, later, at import
        raise RuntimeError(f"pip install -r requirements.txt failed:\n{done.stdout}{done.stderr[-4000:]}")
    (venv / ".complete").write_text(requirements.read_text(encoding="utf-8"), encoding="utf-8")
    return python


def main() -> None:
    """`make test-setup`: the venv for the requirements.txt inside the package, as the tests unpack it."""
    with tempfile.TemporaryDirectory() as workdir:
        requirements = build_and_unpack(Path(workdir)) / "requirements.txt"
        python = prepare_venv(requirements)
    print(f"packaged-plugin venv ready: {python.parent.parent.relative_to(REPO_ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
