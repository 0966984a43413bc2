"""The one way the suite starts a plugin process (or any child that runs plugin code): guarded.

Every child gets the offline guard (tests/reliability/offline/sitecustomize.py on PYTHONPATH, which
also covers gevent's sockets), blank proxy variables so 127.0.0.1 traffic cannot be routed elsewhere,
and OFFLINE_GUARD_REPORT_DIR: each blocked contact is appended to <dir>/<pid>.log. tests/conftest.py
reads that folder after every test and fails the test during which a child was blocked, whether or
not anyone read the child's stderr.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from tests.reliability.offline import offline_guard
from tools.console.runtime import PluginProcess

OFFLINE_DIR = str(Path(offline_guard.__file__).parent)
REPORT_DIR = Path(tempfile.mkdtemp(prefix="offline-guard-"))
_PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
NO_PROXY_ENV = {name: "" for name in _PROXY_VARS}
_reported: dict[Path, int] = {}


def guarded_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """`env` plus the guard. PYTHONPATH keeps what `env` sets (even ""), with the guard's folder first."""
    env = dict(env or {})
    rest = env.get("PYTHONPATH", "")
    return {
        **env,
        **NO_PROXY_ENV,
        "PYTHONPATH": os.pathsep.join(p for p in (OFFLINE_DIR, rest) if p),
        offline_guard.REPORT_DIR_VARIABLE: str(REPORT_DIR),
    }


def popen(argv: list[str], *, env: Mapping[str, str], **kwargs) -> subprocess.Popen:
    """subprocess.Popen with the guard; `env` is the child's whole environment."""
    return subprocess.Popen(argv, env=guarded_env(env), **kwargs)


def run(
    argv: list[str], *, env: Mapping[str, str], check: bool = False, **kwargs
) -> subprocess.CompletedProcess:
    """subprocess.run with the guard; `env` is the child's whole environment."""
    return subprocess.run(argv, env=guarded_env(env), check=check, **kwargs)


def new_blocked_contacts() -> list[str]:
    """Blocks reported by guarded children since the last call (each line once)."""
    found: list[str] = []
    for report in sorted(REPORT_DIR.glob("*.log")):
        text = report.read_text(encoding="utf-8", errors="replace")
        seen = _reported.get(report, 0)
        found += [line for line in text[seen:].splitlines() if line]
        _reported[report] = len(text)
    return found


class GuardedPluginProcess(PluginProcess):
    """The console runtime's PluginProcess (the daemon's way to start `python -m main`), guarded."""

    def __init__(
        self,
        plugin_root: Path | None = None,
        python: str | None = None,
        env: Mapping[str, str] | None = None,
        **kwargs,
    ) -> None:
        # PluginProcess merges os.environ under `env`, so a PYTHONPATH the caller did not set is kept.
        base = {"PYTHONPATH": os.environ.get("PYTHONPATH", ""), **(env or {})}
        options = {k: v for k, v in (("plugin_root", plugin_root), ("python", python)) if v is not None}
        super().__init__(env=guarded_env(base), **options, **kwargs)
