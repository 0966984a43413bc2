"""Run modes: serverless answers HTTP; remote-debug failures end fast with one clear line on stderr.

Unit tests cover run_modes.py (the preflight main.py runs before the SDK);
process tests run the unpacked package the way a developer would (`python -m main`).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import pytest
import requests

import run_modes
from tests.entry.test_process import (
    closed_port,
    plugin_env,
    schema_request,
    start_plugin,
    stop,
    unpacked_plugin,
)

SETTINGS = (
    "INSTALL_METHOD",
    "REMOTE_INSTALL_URL",
    "REMOTE_INSTALL_HOST",
    "REMOTE_INSTALL_PORT",
    "REMOTE_INSTALL_KEY",
)


class FakeDaemon:
    """A TCP listener on 127.0.0.1 that reads the handshake line and sends `answer` (None = stay silent)."""

    def __init__(self, answer: bytes | None) -> None:
        self.answer = answer
        self.handshakes: list[dict] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return  # closed by the test
            with conn:
                conn.settimeout(5)
                data = b""
                while b"\n" not in data and (chunk := conn.recv(4096)):
                    data += chunk
                self.handshakes.append(json.loads(data.split(b"\n")[0]))
                if self.answer is not None:
                    conn.sendall(self.answer)
                else:
                    while conn.recv(4096):  # silence until the client hangs up
                        pass

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


# ---- unit tests of run_modes -------------------------------------------------------------------


def test_dotenv_parsing(tmp_path):
    env = tmp_path / ".env"
    env.write_text(
        "# comment\n\nINSTALL_METHOD=remote\nexport REMOTE_INSTALL_KEY='k-1'\nBROKEN\nA = \"b c\"\n"
    )
    assert run_modes._dotenv(env) == {"INSTALL_METHOD": "remote", "REMOTE_INSTALL_KEY": "k-1", "A": "b c"}
    assert run_modes._dotenv(tmp_path / "missing") == {}


def test_environment_wins_over_dotenv(clean_env, monkeypatch):
    monkeypatch.setenv("REMOTE_INSTALL_KEY", "from-env")
    assert run_modes._setting("REMOTE_INSTALL_KEY", {"REMOTE_INSTALL_KEY": "from-file"}) == "from-env"
    assert run_modes._setting("REMOTE_INSTALL_URL", {"REMOTE_INSTALL_URL": " h:1 "}) == "h:1"


@pytest.mark.parametrize(
    ("dotenv", "target"),
    [
        ({"REMOTE_INSTALL_URL": "debug.example:5003"}, ("debug.example", 5003)),
        ({"REMOTE_INSTALL_URL": "tcp://10.0.0.2:6000"}, ("10.0.0.2", 6000)),
        ({"REMOTE_INSTALL_URL": "http://h:7", "REMOTE_INSTALL_PORT": "9"}, ("h", 7)),  # URL wins
        ({"REMOTE_INSTALL_HOST": "h", "REMOTE_INSTALL_PORT": "9"}, ("h", 9)),
        ({}, ("localhost", 5003)),
    ],
)
def test_remote_target(clean_env, dotenv, target):
    assert run_modes.remote_target(dotenv) == target


@pytest.mark.parametrize(
    "dotenv",
    [{"REMOTE_INSTALL_URL": "localhost"}, {"REMOTE_INSTALL_URL": "h:notaport"}, {"REMOTE_INSTALL_PORT": "x"}],
)
def test_bad_remote_target_is_explained(clean_env, dotenv):
    with pytest.raises(ValueError, match="REMOTE_INSTALL"):
        run_modes.remote_target(dotenv)
    assert "REMOTE_INSTALL" in run_modes.check_remote({**dotenv, "REMOTE_INSTALL_KEY": "k"})


def test_check_remote_problems(clean_env):
    assert "REMOTE_INSTALL_KEY" in run_modes.check_remote({})
    port = closed_port()
    problem = run_modes.check_remote({"REMOTE_INSTALL_KEY": "k", "REMOTE_INSTALL_URL": f"127.0.0.1:{port}"})
    assert f"127.0.0.1:{port}" in problem and "Cannot reach" in problem


@pytest.mark.parametrize(
    ("answer", "rejected"),
    [(b"handshake failed, invalid key\n", True), (b"handshake failed, invalid handshake message\n", True),
     (None, False), (b"", False)],
)  # fmt: skip
def test_check_remote_key_probe(clean_env, monkeypatch, answer, rejected):
    monkeypatch.setattr(run_modes, "HANDSHAKE_WAIT", 0.3)
    daemon = FakeDaemon(answer)
    try:
        problem = run_modes.check_remote(
            {"REMOTE_INSTALL_KEY": "k-9", "REMOTE_INSTALL_URL": f"127.0.0.1:{daemon.port}"}
        )
    finally:
        daemon.close()
    assert daemon.handshakes == [{"type": "handshake", "data": {"key": "k-9"}}]
    assert (problem is not None) == rejected
    if rejected:
        assert "rejected REMOTE_INSTALL_KEY" in problem


def test_prepare_run_mode_leaves_local_alone_despite_dotenv(clean_env, monkeypatch):
    (clean_env / ".env").write_text("INSTALL_METHOD=remote\n")
    monkeypatch.setenv("INSTALL_METHOD", "local")
    assert run_modes.prepare_run_mode() is None


def test_prepare_run_mode_exits_2_with_one_line(clean_env, capsys):
    (clean_env / ".env").write_text("INSTALL_METHOD=remote\n")
    with pytest.raises(SystemExit) as exc:
        run_modes.prepare_run_mode()
    assert exc.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1


# ---- the real entry point, per mode ------------------------------------------------------------


@pytest.fixture(scope="module")
def plugin_dir(tmp_path_factory) -> Path:
    return unpacked_plugin(tmp_path_factory.mktemp("modes"))


def _run_remote(plugin_dir: Path, **env: str) -> tuple[int, str, bytes, float]:
    started = time.monotonic()
    proc = start_plugin(plugin_dir, plugin_env(INSTALL_METHOD="remote", **env))
    try:
        out, err = proc.communicate(timeout=15)
    finally:
        stop(proc)
    return proc.returncode, err.decode(), out, time.monotonic() - started


def _assert_one_line_exit(result: tuple[int, str, bytes, float], needle: str) -> None:
    rc, err, out, seconds = result
    lines = [line for line in err.splitlines() if line.strip()]
    assert rc != 0
    assert len(lines) == 1 and needle in lines[0], err
    assert out == b"", "nothing may reach stdout (the SDK floods it on a bad key)"
    assert seconds < 15
    print(f"remote exit after {seconds:.2f} s: {lines[0]}")


@pytest.mark.slow
def test_remote_without_key(plugin_dir):
    result = _run_remote(plugin_dir, REMOTE_INSTALL_URL=f"127.0.0.1:{closed_port()}")
    _assert_one_line_exit(result, "REMOTE_INSTALL_KEY")


@pytest.mark.slow
def test_remote_daemon_unreachable(plugin_dir):
    port = closed_port()
    result = _run_remote(plugin_dir, REMOTE_INSTALL_URL=f"127.0.0.1:{port}", REMOTE_INSTALL_KEY="k")
    _assert_one_line_exit(result, f"127.0.0.1:{port}")


@pytest.mark.slow
def test_remote_key_rejected(plugin_dir):
    daemon = FakeDaemon(b"handshake failed, invalid key\n")
    try:
        url = f"127.0.0.1:{daemon.port}"
        result = _run_remote(plugin_dir, REMOTE_INSTALL_URL=url, REMOTE_INSTALL_KEY="stale-key")
    finally:
        daemon.close()
    _assert_one_line_exit(result, "rejected REMOTE_INSTALL_KEY")
    assert daemon.handshakes == [{"type": "handshake", "data": {"key": "stale-key"}}]


@pytest.mark.slow
def test_serverless_answers_http(plugin_dir):
    port = closed_port()
    started = time.monotonic()
    proc = start_plugin(
        plugin_dir,
        plugin_env(INSTALL_METHOD="serverless", SERVERLESS_HOST="127.0.0.1", SERVERLESS_PORT=str(port)),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        while True:
            assert time.monotonic() - started < 20, "no HTTP answer within 20 s"
            assert proc.poll() is None, proc.stderr.read().decode()
            try:
                health = requests.get(f"{base}/health", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        ready_s = time.monotonic() - started
        assert (health.status_code, health.text) == (200, "OK")
        session, line = schema_request("llm", f"http://127.0.0.1:{closed_port()}")
        reply = requests.post(
            f"{base}/invoke", data=line, headers={"Content-Type": "application/json"}, timeout=10
        )
        messages = [json.loads(chunk) for chunk in reply.text.split("\n") if chunk.strip()]
    finally:
        stop(proc)
    kinds = [m["data"]["type"] for m in messages if m.get("session_id") == session]
    assert kinds == ["stream", "end"], messages
    assert messages[0]["data"]["data"]["model_schema"]["model"] == "my-model"
    print(f"serverless answered HTTP after {ready_s:.2f} s")
