"""The server goes away in the middle of a run: the plugin must report InvokeConnectionError.

Marked `stops_server`: it stops the shared server for good, so tests/real/conftest.py runs it after
every other test of the run.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from urllib.parse import urlsplit

import pytest

from tests.real.support import OPEN_URL, UIDS, credentials, error_of, ok
from tools.console import payloads

pytestmark = [pytest.mark.real, pytest.mark.stops_server]


def _port_open(url: str) -> bool:
    parts = urlsplit(url)
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((parts.hostname, parts.port)) == 0


def _running(pid: int) -> bool:
    """True while the process exists and is not a zombie (its parent, run.py, reaps it later)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: fall back to signal 0
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


def test_server_stopped_mid_run(plugin):
    creds = credentials(UIDS["embed"])
    # the plugin process has talked to this server (connection pool, cached description) ...
    ok(plugin, payloads.embed("my-embed", creds, ["before the stop"]))
    pid = int(os.environ["XINFERENCE_REAL_PID"])
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 60
    # the listening socket closes first; pooled keep-alive connections are served until the process exits
    while _running(pid) or _port_open(OPEN_URL):
        assert time.monotonic() < deadline, "the server did not stop within 60 s"
        time.sleep(0.2)
    # ... and now finds it gone
    embed = error_of(plugin, payloads.embed("my-embed", creds, ["after the stop"]))
    assert embed["error_type"] == "InvokeConnectionError", embed
    rerank = error_of(plugin, payloads.rerank("my-rerank", credentials(UIDS["rerank"]), "q", ["a", "b"]))
    assert rerank["error_type"] == "InvokeConnectionError", rerank
    for stream in (True, False):
        data = payloads.invoke_llm(
            "my-llm", credentials(UIDS["llm"]), [{"role": "user", "content": "Hello"}], stream=stream
        )
        llm = error_of(plugin, data)
        assert llm["error_type"] == "InvokeConnectionError", llm
    validate = error_of(plugin, payloads.validate("text-embedding", "my-embed", creds))
    assert validate["error_type"] == "CredentialsValidateFailedError"
    assert "connect" in validate["message"].lower()
