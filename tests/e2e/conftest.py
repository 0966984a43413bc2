"""Fixtures for end-to-end tests: the real plugin process (as the daemon runs it) and the replay server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.plugin_process import GuardedPluginProcess
from tools.console.credentials import build
from tools.console.runtime import REPO_ROOT, PluginProcess
from tools.replay.server import ReplayServer

API_KEY = "xf-E2E-SECRET-5d1c0b"  # unique, so a leak into any output is easy to find


@pytest.fixture(autouse=True)
def _no_sleep():
    """Overrides the root fixture: it patches time.sleep globally, and the replay server's pacing needs it."""
    yield


@pytest.fixture(scope="module")
def replay() -> Iterator[ReplayServer]:
    with ReplayServer(api_key=API_KEY) as server:
        yield server


@pytest.fixture(scope="module")
def plugin() -> Iterator[PluginProcess]:
    """One plugin process per test module, started exactly as the daemon starts it (guarded)."""
    process = GuardedPluginProcess(env={"HEARTBEAT_INTERVAL": "1"})
    process.start(timeout=60)
    yield process
    process.stop()


@pytest.fixture(scope="module")
def creds(replay: ReplayServer) -> Callable[..., dict[str, Any]]:
    """Credentials as Dify stores them: declared fields only, YAML defaults applied, values as strings."""

    def make(model_type: str, uid: str, **fields: Any) -> dict[str, Any]:
        values = {"server_url": replay.url, "model_uid": uid, "api_key": API_KEY, "max_retries": "0"}
        values.update(fields)
        return build(REPO_ROOT, model_type, values)

    return make
