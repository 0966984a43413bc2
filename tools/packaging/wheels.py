"""Fetch, once per lock and platform, every wheel the plugin needs on CPython 3.12 / manylinux.

Cached outside the clone in ~/.cache/xinference-dify-plugin/wheels/linux-<arch>-<digest>/ (digest of
the lock and the platform tags), shared by every worktree and guarded by a file lock, so a rebuild
with a warm cache downloads nothing. Only this step needs the package index; the result is checked
for completeness by resolving the offline requirements against it with the index switched off.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from packaging.utils import parse_wheel_filename

from tools.packaging.lock import PYTHON_VERSION, Pin, parse_lock

log = logging.getLogger("tools.packaging.wheels")

CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "xinference-dify-plugin" / "wheels"
ARCHES = {"amd64": "x86_64", "arm64": "aarch64"}  # manifest meta.arch → wheel platform machine
# manylinux_2_28 (glibc ≥ 2.28: Debian 10+, Ubuntu 20.04+, RHEL 8+) down to manylinux2014; the daemon's
# image is Debian bookworm (glibc 2.36). Newest first, so pip prefers the most specific build.
GLIBC_MINORS = range(28, 16, -1)
FETCH_TIMEOUT = 900  # seconds for the whole download; generous, only to prevent a hang


class WheelError(Exception):
    """The wheels cannot be fetched, or the fetched set does not match the lock."""


def platform_tags(arch: str) -> list[str]:
    machine = ARCHES[arch]
    return [*(f"manylinux_2_{minor}_{machine}" for minor in GLIBC_MINORS), f"manylinux2014_{machine}"]


def target_options(arch: str) -> list[str]:
    """pip options that select wheels for the daemon's interpreter instead of the one running pip."""
    options = ["--only-binary=:all:", "--python-version", PYTHON_VERSION, "--implementation", "cp"]
    for tag in platform_tags(arch):
        options += ["--platform", tag]
    return options


def needed(lock_text: str, arch: str) -> list[Pin]:
    return [pin for pin in parse_lock(lock_text) if pin.applies_to(ARCHES[arch])]


def cache_dir(lock_text: str, arch: str) -> Path:
    key = "\n".join([*(pin.line for pin in parse_lock(lock_text)), *target_options(arch)])
    return CACHE / f"linux-{arch}-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def _check(folder: Path, pins: list[Pin]) -> list[Path]:
    """The wheel files, exactly one per pin with the pinned version, and nothing else."""
    wheels = sorted(folder.glob("*.whl"))
    found = {}
    for wheel in wheels:
        name, version, _build, _tags = parse_wheel_filename(wheel.name)
        found.setdefault(str(name), []).append(str(version))
    wanted = {pin.name: pin.version for pin in pins}
    if sorted(p.name for p in folder.iterdir()) != sorted(w.name for w in wheels):
        raise WheelError(f"{folder}: holds files that are not wheels")
    for name, version in wanted.items():
        if found.get(name) != [version]:
            raise WheelError(f"{folder}: wanted {name}=={version}, found {found.get(name)}")
    if extra := sorted(set(found) - set(wanted)):
        raise WheelError(f"{folder}: wheels the lock does not pin: {extra}")
    return wheels


def _download(into: Path, pins: list[Pin], arch: str) -> None:
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--dest", str(into)]
    command += [*target_options(arch), *(f"{pin.name}=={pin.version}" for pin in pins)]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=FETCH_TIMEOUT)
    if done.returncode != 0:
        tail = "\n".join(line for line in done.stderr.splitlines() if "is ignored" not in line)[-3000:]
        raise WheelError(f"pip download for linux-{arch} failed (the index is needed to build):\n{tail}")


def fetch_wheels(lock_text: str, arch: str) -> list[Path]:
    """The cached wheels for arch, downloading them first when this lock has none yet."""
    folder, pins = cache_dir(lock_text, arch), needed(lock_text, arch)
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another worktree may be filling the same folder
        if folder.is_dir():
            return _check(folder, pins)
        log.info("fetching %d wheels for linux-%s into %s", len(pins), arch, folder)
        partial = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=CACHE))
        try:
            _download(partial, pins, arch)
            _check(partial, pins)
            partial.rename(folder)  # atomic: the folder exists only when it is complete
        finally:
            shutil.rmtree(partial, ignore_errors=True)
        return _check(folder, pins)


def resolution_problems(plugin_root: Path, arch: str) -> list[str]:
    """Resolve the unpacked package's requirements.txt for arch from its own wheels, index off."""
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--ignore-installed"]
    command += ["--no-index", "--isolated", "--find-links", "./wheels", *target_options(arch)]
    command += ["--target", str(plugin_root / ".dry-run-target"), "-r", "requirements.txt"]
    done = subprocess.run(command, cwd=plugin_root, capture_output=True, text=True, check=False, timeout=300)
    if done.returncode != 0:
        return [f"requirements.txt does not resolve from wheels/ for linux-{arch}:\n{done.stderr[-2000:]}"]
    return []
