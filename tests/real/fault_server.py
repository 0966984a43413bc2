"""A real Xinference 4.1.0 of its own for test_faults.py, which stops, restarts and kills parts of it.

It is not the shared open server: stopping this one breaks no other test. run.py passes what it needs:
XINFERENCE_REAL_PYTHON (the cached venv's python) and XINFERENCE_REAL_MODELS (JSON: role -> model path:
"tools", the tiny chat + tools model, and "random", the random-weight long writer, built here if missing).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path

import requests

TOOLS = Path(__file__).resolve().parents[2] / "tools" / "real_xinference"
PYTHON = os.environ.get("XINFERENCE_REAL_PYTHON", "")
MODELS: dict[str, str] = json.loads(os.environ.get("XINFERENCE_REAL_MODELS") or "{}")
UID = "fault-llm"
LONG_UID = "fault-long"  # the long writer: a random-weight tiny Qwen2 whose answer runs to max_tokens


def _tools():
    if str(TOOLS) not in sys.path:
        sys.path.insert(0, str(TOOLS))
    import local_models
    import processes
    import server
    import specs

    return processes, server, specs, local_models


class FaultServer:
    """One xinference-local with the tiny chat + tools model as UID, on a port that survives restarts; the
    kill test launches the long writer beside it as LONG_UID."""

    def __init__(self) -> None:
        self.processes, server, self.specs, self.local_models = _tools()
        self.server = server.XinferenceServer(Path(PYTHON), "faults")
        self.url = self.server.url
        self._launched: dict[str, list[int]] = {}  # uid -> the processes that appeared with its launch

    def chat_launch(self):
        path = Path(MODELS["tools"])
        spec = self.specs.chat_spec("test-tiny-qwen2-tools", path, "tiny chat + tools model")
        return self.specs.Launch(UID, "LLM", spec)

    def generate_launch(self):
        """Another model under the same UID: generate-only (no chat, no tools), half the context."""
        spec = self.specs.generate_spec("test-tiny-qwen2-tools-base", Path(MODELS["tools"]))
        spec["context_length"] = 1024
        return self.specs.Launch(UID, "LLM", spec)

    def long_writer_launch(self):
        """The random-weight tiny Qwen2 as LONG_UID: greedy, its answer runs to max_tokens (seconds)."""
        path = Path(MODELS.get("random") or self.local_models.random_llm(Path(PYTHON)))
        spec = self.specs.chat_spec("test-tiny-qwen2-random", path, "tiny random-weight Qwen2")
        return self.specs.Launch(LONG_UID, "LLM", spec)

    def start(self, launch=None) -> None:
        self.server.start()
        self.launch(launch or self.chat_launch())

    def launch(self, launch) -> None:
        before = set(self.processes.members(self.server.pid))
        self.server.register_and_launch([launch])
        self._launched[launch.uid] = sorted(set(self.processes.members(self.server.pid)) - before)

    def stop(self) -> None:
        self.server.stop()

    def terminate_model(self, uid: str = UID) -> None:
        self.server.request("DELETE", f"/v1/models/{uid}")

    def model_processes(self, uid: str = UID) -> list[int]:
        """The live processes that appeared with the model's launch: its own sub-pool (and children)."""
        members = set(self.processes.members(self.server.pid))
        return [pid for pid in self._launched.get(uid, []) if pid in members]

    def process_titles(self, uid: str = UID) -> list[str]:
        """The command lines of the model's processes (4.1.0 titles its sub-pool "Model: <uid>-rep0")."""
        titles = []
        for pid in self.model_processes(uid):
            with contextlib.suppress(OSError):
                titles.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip())
        return titles

    def kill_model(self, uid: str = UID) -> list[int]:
        """SIGKILL the model's processes, as the kernel's OOM killer does."""
        pids = self.model_processes(uid)
        assert pids, f"no process of {uid} found"
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        return pids

    def description(self) -> dict | None:
        try:
            r = self.server.http.get(f"{self.url}/v1/models/{UID}", timeout=5)
        except requests.RequestException:
            return None
        return r.json() if r.status_code == 200 else None

    def wait_until_serving(self, timeout: float, uid: str = UID) -> bool:
        """True once a chat succeeds again (a recovered model is listed before it can chat)."""
        deadline = time.monotonic() + timeout
        body = {"model": uid, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 8}
        while time.monotonic() < deadline:
            try:
                r = self.server.http.post(f"{self.url}/v1/chat/completions", json=body, timeout=30)
                if r.status_code == 200:
                    return True
            except requests.RequestException:
                pass
            time.sleep(1)
        return False
