"""The built .difypkg, unpacked into a temp dir and run from a fresh venv holding only its requirements.txt.

Proves requirements.txt is complete and the plugin needs no file outside the package (the repo is not
on sys.path, HOME is empty, cwd is the unpacked package) in both modes the pipeline and daemon use.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.daemon_checks import ok
from tests.e2e.packaged import build_and_unpack, clean_env, fresh_venv
from tests.plugin_process import GuardedPluginProcess, popen
from tools.console import payloads

pytestmark = pytest.mark.slow

SERVERLESS_DEADLINE = 20.0  # seconds; the Marketplace install check's window


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory) -> tuple[Path, str, dict[str, str]]:
    workdir = tmp_path_factory.mktemp("difypkg")
    root = build_and_unpack(workdir)
    assert (root / "manifest.yaml").is_file() and (root / "requirements.txt").is_file()
    assert not (root / "tests").exists() and not (root / ".venv").exists()
    python = fresh_venv(root / "requirements.txt")
    home = workdir / "home"
    home.mkdir()
    return root, str(python), clean_env(home)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _http_status(port: int) -> int | None:
    """The status of GET / on the port, or None while nothing answers HTTP there."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            head = sock.recv(64)
    except OSError:
        return None
    parts = head.split(b" ", 2)
    return int(parts[1]) if head.startswith(b"HTTP/") and len(parts) > 1 and parts[1].isdigit() else None


@pytest.fixture
def serverless(unpacked) -> Iterator[tuple[subprocess.Popen, int]]:
    root, python, env = unpacked
    port = _free_port()
    env = {**os.environ, **env, "INSTALL_METHOD": "serverless", "SERVERLESS_HOST": "127.0.0.1"}
    env["SERVERLESS_PORT"] = str(port)
    # Own process group: gunicorn forks workers, and all of them must go when the test ends.
    proc = popen(
        [python, "-m", "main"],
        cwd=root,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    yield proc, port
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    proc.stdout.close()


def test_serverless_mode_answers_http_within_20_s(serverless):
    proc, port = serverless
    began = time.monotonic()
    status = None
    while status is None and time.monotonic() - began < SERVERLESS_DEADLINE and proc.poll() is None:
        status = _http_status(port)
        if status is None:
            time.sleep(0.2)
    elapsed = time.monotonic() - began
    output = (
        "" if status else proc.stdout.read1(4096).decode(errors="replace") if proc.poll() is not None else ""
    )
    assert status is not None, (
        f"no HTTP answer on port {port} within {SERVERLESS_DEADLINE} s (rc {proc.poll()}):\n{output}"
    )
    print(f"\nserverless: HTTP {status} on GET / after {elapsed:.2f} s")  # a number for the report (-s)


def test_local_mode_heartbeats_and_answers_schema(unpacked, creds):
    root, python, env = unpacked
    process = GuardedPluginProcess(plugin_root=root, python=python, env=env)
    try:
        ready = process.start(timeout=60)
        print(f"\npackaged plugin: first heartbeat after {ready:.2f} s")  # a number for the report (-s)
        schema = ok(process, payloads.schema("llm", "test-llm", creds("llm", "test-llm"))).chunks[0][
            "model_schema"
        ]
        assert schema["model"] == "test-llm" and schema["model_properties"]["context_size"] == 2048
        # An HTTP-using action too, so the installed requests/urllib3 stack is exercised, not just imports.
        embedded = ok(
            process, payloads.embed("test-embed", creds("text-embedding", "test-embed"), ["a"])
        ).chunks[0]
        assert len(embedded["embeddings"][0]) == 384
        assert process.violations == []
    finally:
        process.stop()
