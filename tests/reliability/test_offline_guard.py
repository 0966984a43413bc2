"""The offline guard itself: it must block non-loopback contact and let loopback through."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests import plugin_process
from tests.reliability.offline import offline_guard
from tools.console import payloads

OFFLINE_DIR = Path(offline_guard.__file__).parent


@pytest.mark.parametrize(
    "attempt",
    [
        lambda: socket.create_connection(("192.0.2.1", 9), timeout=1),  # TEST-NET-1, never routable
        lambda: socket.socket(socket.AF_INET6).connect_ex(("2001:db8::1", 9, 0, 0)),
        lambda: socket.getaddrinfo("example.com", 80),
        lambda: requests.get("http://example.com/", timeout=1),
        lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("8.8.8.8", 53)),
    ],
    ids=["ipv4-connect", "ipv6-connect_ex", "dns-lookup", "requests", "udp-sendto"],
)
def test_non_loopback_contact_is_blocked_and_recorded(attempt):
    with pytest.raises(offline_guard.OfflineGuardError):
        attempt()
    blocked = offline_guard.take_violations()  # provoked on purpose: do not fail this test for it
    assert blocked and offline_guard.MARKER in blocked[0]


def test_loopback_is_allowed():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    try:
        for host in ("127.0.0.1", "localhost"):
            with socket.create_connection((host, server.getsockname()[1]), timeout=2):
                pass
    finally:
        server.close()
    assert offline_guard.take_violations() == []


def test_guard_is_installed_for_the_whole_run():
    assert socket.socket.connect.__name__ == "guarded_connect"
    assert socket.getaddrinfo.__name__ == "guarded_getaddrinfo"


def test_sitecustomize_installs_the_guard_in_child_processes():
    code = "import socket; socket.create_connection(('192.0.2.1', 9), timeout=1)"
    env = {"PYTHONPATH": str(OFFLINE_DIR), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode != 0
    assert "OfflineGuardError" in done.stderr and offline_guard.MARKER in done.stderr


def test_guard_survives_the_sdks_gevent_patching_in_a_child():
    # sitecustomize runs before the SDK's monkey.patch_all(), which swaps in gevent's socket class
    code = (
        "import dify_plugin, socket\n"
        "assert socket.socket.__module__.startswith('gevent')\n"
        "socket.create_connection(('192.0.2.1', 9), timeout=1)"
    )
    done = plugin_process.run(
        [sys.executable, "-c", code],
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0 and "OfflineGuardError" in done.stderr, done.stderr[-2000:]
    reported = plugin_process.new_blocked_contacts()  # taken here, so the root fixture does not fail us
    assert any("192.0.2.1" in line for line in reported), reported


@pytest.mark.slow
def test_a_plugin_process_started_by_the_suite_is_guarded():
    process = plugin_process.GuardedPluginProcess()
    process.start(timeout=60)
    try:
        creds = {"server_url": "http://192.0.2.1:9", "model_uid": "m", "max_retries": "0"}
        result = process.call(payloads.embed("m", creds, ["a"]), timeout=60)
    finally:
        process.stop()
    assert result.error is not None
    reported = plugin_process.new_blocked_contacts()
    assert any("connect to ('192.0.2.1', 9)" in line for line in reported), reported
