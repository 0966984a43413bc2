"""The real plugin process, as the reliability suite runs it, and the evidence it leaves behind.

`GuardedPlugin` is the suite's guarded plugin process (tests/plugin_process.py: offline guard in the
child, proxy variables blanked) that also keeps everything the process says — every session's chunks and
errors (tracebacks included), log events, stray stdout, all of stderr — is kept in EVIDENCE for the
secrets test.
"""

from __future__ import annotations

import json
import subprocess
import threading

from tests.helpers import API_KEY
from tests.plugin_process import GuardedPluginProcess
from tests.reliability.offline import offline_guard
from tools.console import payloads
from tools.console.runtime import SessionResult


class Evidence:
    """Every text the suite saw from the plugin (processes and in-process logs), for the secrets test."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.texts: list[str] = []
        self.counts = {"calls": 0, "errors": 0, "processes": 0}

    def add(self, text: str) -> None:
        with self._lock:
            self.texts.append(text)

    def add_result(self, result: SessionResult) -> None:
        self.add(json.dumps({"chunks": result.chunks, "error": result.error, "violation": result.violation}))
        with self._lock:
            self.counts["calls"] += 1
            self.counts["errors"] += result.error is not None

    def find(self, secret: str) -> list[str]:
        with self._lock:
            return [text[max(0, text.find(secret) - 200) :][:400] for text in self.texts if secret in text]


EVIDENCE = Evidence()


def evidence_leaks() -> list[str]:
    """Excerpts around the key in anything collected (the validate echo set aside)."""
    EVIDENCE.texts[:] = [_drop_protocol_echo(text) for text in EVIDENCE.texts]
    return EVIDENCE.find(API_KEY)


def _drop_protocol_echo(text: str) -> str:
    """Set aside the credentials echo of validate results (see the module docstring), nothing else."""
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if isinstance(data, dict) and isinstance(data.get("chunks"), list):
        for chunk in data["chunks"]:
            if isinstance(chunk, dict) and "result" in chunk and isinstance(chunk.get("credentials"), dict):
                chunk["credentials"].pop("api_key", None)
        return json.dumps(data)
    return text


class GuardedPlugin(GuardedPluginProcess):
    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env=env)
        self._stderr_all: list[bytes] = []

    def start(self, timeout: float = 60.0) -> float:
        EVIDENCE.counts["processes"] += 1
        return super().start(timeout)

    def call(self, data: dict, timeout: float = 60.0, on_chunk=None) -> SessionResult:
        result = super().call(data, timeout, on_chunk)
        EVIDENCE.add_result(result)
        return result

    def _read_stderr(self) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        for line in iter(lambda: self._proc.stderr.readline(65536), b""):  # type: ignore[union-attr]
            self._stderr_tail.append(line)
            if len(self._stderr_all) < 200_000:
                self._stderr_all.append(line)

    def full_stderr(self) -> str:
        return b"".join(self._stderr_all).decode("utf-8", "replace")

    def blocked_contacts(self) -> list[str]:
        return [line for line in self.full_stderr().splitlines() if offline_guard.MARKER in line]

    def stop(self, grace: float = 5.0) -> int | None:
        # End the process and let the reader threads reach EOF before the runtime closes the pipes:
        # under gevent (the SDK patches this test process too) closing a pipe that a reader is
        # blocked on raises "reentrant call" instead of waking the reader.
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(grace)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        for thread in self._threads:
            thread.join(timeout=5)
        code = super().stop(grace)
        EVIDENCE.add(self.full_stderr())
        EVIDENCE.add(json.dumps([self.logs, self.top_level_events, self.violations, self.manifest]))
        return code


def creds(server_url: str, model_uid: str = "llm-1", **extra: str) -> dict[str, str]:
    """Credentials as strings, with the marker key and a short timeout for hang cases (values Dify's form
    rule keeps as they are; tests of that rule itself use tests/dify_form.py)."""
    base = {"server_url": server_url, "model_uid": model_uid, "api_key": API_KEY, "invoke_timeout": "2"}
    return {**base, **extra}


HELLO = [{"role": "user", "content": "Say hello"}]

# action name -> (model uid, payload builder(credentials))
ACTIONS = {
    "llm_stream": ("llm-1", lambda c: payloads.invoke_llm("llm", c, HELLO, stream=True)),
    "llm_block": ("llm-1", lambda c: payloads.invoke_llm("llm", c, HELLO, stream=False)),
    "embed": ("embed-1", lambda c: payloads.embed("embed", c, ["alpha", "beta", "gamma"])),
    "rerank": ("rerank-1", lambda c: payloads.rerank("rerank", c, "capital", ["Paris", "Berlin", "Rome"])),
    "validate": ("llm-1", lambda c: payloads.validate("llm", "llm", c)),
}


def request(action: str, server_url: str, **extra: str) -> dict:
    uid, build = ACTIONS[action]
    return build(creds(server_url, uid, **extra))


def llm_text(result: SessionResult) -> str:
    return "".join(str(c["delta"]["message"].get("content") or "") for c in result.chunks if "delta" in c)
