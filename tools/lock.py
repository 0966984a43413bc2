"""The dependency lock: requirements.in (direct dependencies) → requirements.txt (every pin).

`make lock` regenerates requirements.txt with `uv pip compile --universal` for Python 3.12, so one
file serves amd64 and arm64 (platform-only dependencies keep their environment markers) and no index
URL is written into it (a fixed index breaks sites that use PIP_MIRROR_URL, dify#37831). This module
reads the lock for the offline packager and the lock test.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import Marker

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.txt"
TOP_LEVEL = ROOT / "requirements.in"
PYTHON_VERSION = "3.12"  # the daemon always runs `uv venv --python 3.12`
PIN_RE = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;]+)\s*(?:;\s*(?P<marker>.+))?$")


class LockError(Exception):
    """requirements.txt is not a lock: a line is not `name==version [; marker]`."""


@dataclass(frozen=True)
class Pin:
    name: str  # canonical (PEP 503) name
    version: str
    marker: str | None
    line: str

    def applies_to(self, machine: str) -> bool:
        """Whether pip/uv installs this pin on CPython 3.12, Linux, the given machine (x86_64, aarch64)."""
        return self.marker is None or Marker(self.marker).evaluate(linux_environment(machine))


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def linux_environment(machine: str) -> dict[str, str]:
    """PEP 508 marker values of the daemon's interpreter on Linux (CPython 3.12)."""
    return {
        "implementation_name": "cpython",
        "implementation_version": f"{PYTHON_VERSION}.0",
        "os_name": "posix",
        "platform_machine": machine,
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_system": "Linux",
        "platform_version": "",
        "python_full_version": f"{PYTHON_VERSION}.0",
        "python_version": PYTHON_VERSION,
        "sys_platform": "linux",
        "extra": "",
    }


def parse_lock(text: str) -> list[Pin]:
    pins = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not line:
            continue
        match = PIN_RE.match(line)
        if not match:
            raise LockError(f"requirements.txt line {number}: {line!r} is not `name==version [; marker]`")
        pins.append(Pin(canonical(match["name"]), match["version"], match["marker"], line))
    return pins


def lock_digest(text: str) -> str:
    """Short content hash of the lock; names the wheel cache, so a new lock fetches new wheels."""
    pins = "\n".join(pin.line for pin in parse_lock(text))
    return hashlib.sha256(pins.encode()).hexdigest()[:16]


def offline_requirements(text: str, description: str) -> str:
    """requirements.txt for an offline package: the lock's pins, resolved from ./wheels only.

    `--no-index` in the file also overrides an `-i <mirror>` the daemon adds on the command line
    (PIP_MIRROR_URL or its mirror auto-detection), so the install reads nothing but the package.
    It stays on a line of its own: uv reads an option's value to the end of the line, so
    `--find-links ./wheels --no-index` fails there (tests/marketplace/test_cli.py).
    """
    lines = [
        f"# Offline install: {description}. Every pin below is in ./wheels;",
        "# no package index is read, even when the installer is given -i <mirror>.",
        "--no-index",
        "--find-links ./wheels",
        *(pin.line for pin in parse_lock(text)),
    ]
    return "\n".join(lines) + "\n"
