"""Tests of the offline packages `make test-offline` builds (tools/packaging/offline.py) into OFFLINE_DIST.

Building needs the package index (wheels are fetched once per lock into the cache), so `make test`
does not collect these; the installs they run have no network at all (`unshare -n`).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

DIST = os.environ.get("OFFLINE_DIST", "")

if not DIST:
    collect_ignore_glob = ["test_*.py"]


def pytest_report_header(config):
    if not DIST:
        return "tests/offline: not collected (no OFFLINE_DIST; `make test-offline` builds and runs them)"
    return None


def _namespaces_work() -> bool:
    try:
        done = subprocess.run(["unshare", "-n", "true"], capture_output=True, check=False, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


@pytest.fixture(scope="session")
def dist() -> Path:
    return Path(DIST).resolve()


@pytest.fixture(scope="session")
def no_network() -> list[str]:
    """The prefix that runs a command in a network namespace with no interface up."""
    if not _namespaces_work():
        why = "`unshare -n` is not available here (needs root or user namespaces)"
        if os.environ.get("CI") or os.environ.get("REQUIRE_TESTS") == "1":
            pytest.fail(f"{why}: the no-network install cannot be proven, and CI must not skip it")
        pytest.skip(why)
    return ["unshare", "-n", "--"]
