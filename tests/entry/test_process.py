"""The packaged plugin starts the way the daemon starts it and answers schema requests with the server down.

The plugin runs from an unpacked copy of the real .difypkg (so the test also proves the package runs),
with an explicit minimal environment, so neither a developer's .env nor proxy settings leak in.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from pathlib import Path

import pytest
import yaml

from tests.plugin_process import popen
from tools.packaging.package import build_package

ROOT = Path(__file__).resolve().parents[2]
MODEL_TYPES = ("llm", "text-embedding", "rerank", "speech2text", "tts")
HEARTBEAT_LIMIT = 10.0  # the daemon allows 120 s; ours should be a few seconds

pytestmark = pytest.mark.slow


def unpacked_plugin(dest: Path) -> Path:
    """Build the package and unpack it like the daemon does (no .venv, no .env, no tests)."""
    with zipfile.ZipFile(build_package(ROOT, dest / "dist")) as archive:
        archive.extractall(dest / "plugin")
    return dest / "plugin"


def plugin_env(**overrides: str) -> dict[str, str]:
    """Only what the plugin needs: no inherited INSTALL_METHOD/REMOTE_*/proxy variables."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"}
    env.update(HOME=os.environ.get("HOME", "/tmp"), NO_PROXY="*", no_proxy="*")
    env.update(overrides)
    return env


def closed_port() -> int:
    """A 127.0.0.1 port nobody listens on (bound and released, so connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_plugin(cwd: Path, env: dict[str, str]) -> subprocess.Popen:
    assert os.getpid() != 1, "the SDK kills itself when its parent is PID 1; run tests under an init"
    argv = [sys.executable, "-m", "main"]
    return popen(
        argv, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def stop(proc: subprocess.Popen) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


class StdoutLines:
    """Reads the plugin's stdout on a thread: JSON messages into a queue, anything else into `garbage`."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.messages: queue.Queue[dict] = queue.Queue()
        self.garbage: list[bytes] = []
        threading.Thread(target=self._pump, args=(proc.stdout,), daemon=True).start()

    def _pump(self, stream) -> None:
        for line in stream:
            if not line.strip():
                continue  # the SDK ends every message with an empty line
            try:
                self.messages.put(json.loads(line))
            except ValueError:
                self.garbage.append(line)

    def next(self, deadline: float) -> dict:
        return self.messages.get(timeout=max(0.01, deadline - time.monotonic()))


def credentials_for(model_type: str, server_url: str) -> dict:
    """What Dify sends: every field shown for this type with its YAML default, plus ours."""
    provider = yaml.safe_load((ROOT / "provider" / "xinference.yaml").read_text(encoding="utf-8"))
    creds = {}
    for field in provider["model_credential_schema"]["credential_form_schemas"]:
        shown = all(cond.get("value") == model_type for cond in field.get("show_on") or [])
        if shown and "default" in field:
            creds[field["variable"]] = field["default"]
    creds.update(server_url=server_url, model_uid="uid-1", invoke_timeout="3", max_retries="0")
    return creds


def schema_request(model_type: str, server_url: str) -> tuple[str, bytes]:
    session = str(uuid.uuid4())
    data = {"action": "get_ai_model_schemas", "credentials": credentials_for(model_type, server_url),
            "model": "my-model", "model_type": model_type, "provider": "xinference", "type": "model",
            "user_id": "user-1"}  # fmt: skip
    envelope = {"session_id": session, "conversation_id": None, "message_id": None, "app_id": None,
                "endpoint_id": None, "context": None, "event": "request", "data": data}  # fmt: skip
    return session, json.dumps(envelope).encode() + b"\n"


@pytest.fixture(scope="module")
def plugin_dir(tmp_path_factory) -> Path:
    plugin = unpacked_plugin(tmp_path_factory.mktemp("proc"))
    # A developer's remote-debug .env must not matter: the daemon (and we) always set INSTALL_METHOD.
    (plugin / ".env").write_text("INSTALL_METHOD=remote\nREMOTE_INSTALL_URL=127.0.0.1:1\n")
    return plugin


def _collect(lines: StdoutLines, sessions: dict[str, str], deadline: float) -> dict[str, list[dict]]:
    replies: dict[str, list[dict]] = {s: [] for s in sessions}
    done: set[str] = set()
    while done != set(sessions):
        message = lines.next(deadline)
        session = message.get("session_id")
        if message.get("event") == "session" and session in replies:
            replies[session].append(message["data"])
            if message["data"]["type"] == "end":
                done.add(session)
    return replies


def test_local_mode_heartbeat_and_schemas_with_server_down(plugin_dir, record_property):
    server_url = f"http://127.0.0.1:{closed_port()}"
    started = time.monotonic()
    proc = start_plugin(plugin_dir, plugin_env(INSTALL_METHOD="local"))
    try:
        lines = StdoutLines(proc)
        while lines.next(started + HEARTBEAT_LIMIT).get("event") != "heartbeat":
            pass
        heartbeat_s = time.monotonic() - started
        record_property("heartbeat_seconds", round(heartbeat_s, 2))

        requests = {t: schema_request(t, server_url) for t in MODEL_TYPES}
        sent = time.monotonic()
        for _session, line in requests.values():
            proc.stdin.write(line)
        proc.stdin.flush()
        replies = _collect(lines, {s: t for t, (s, _) in requests.items()}, sent + 20)
        schemas_s = time.monotonic() - sent
        record_property("schemas_seconds", round(schemas_s, 2))

        for model_type, (session, _) in requests.items():
            kinds = [r["type"] for r in replies[session]]
            assert kinds == ["stream", "end"], (model_type, replies[session])
            schema = replies[session][0]["data"]["model_schema"]
            assert schema is not None, model_type
            assert (schema["model"], schema["model_type"]) == ("my-model", model_type)
        assert lines.garbage == [], "non-JSON on stdout (a print?) would be counted as errors by the daemon"
        assert proc.poll() is None
    finally:
        rc = stop(proc)
    assert rc == -signal.SIGTERM
    print(f"heartbeat after {heartbeat_s:.2f} s; five schemas answered in {schemas_s:.2f} s")
