"""Run the plugin the way the Dify plugin daemon does and speak its stdio protocol.

The daemon spawns `python -m main` in the package root with INSTALL_METHOD=local, waits for the first
heartbeat, writes one JSON request per line to stdin and demultiplexes stdout by session_id. Every
session ends with exactly one `end`, optionally preceded by one `error`. The daemon kills a plugin
whose stdout line exceeds 5 MiB, so such a line is fatal here too.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from tools.console.demux import StdoutDemux, _Pending
from tools.console.session import PluginError, ProtocolViolation, SessionResult, SessionTimeout

__all__ = ["PluginError", "PluginProcess", "ProtocolViolation", "SessionResult", "SessionTimeout"]

REPO_ROOT = Path(__file__).resolve().parents[2]
MAX_LINE_BYTES = 5 * 1024 * 1024  # the daemon's PLUGIN_RUNTIME_MAX_BUFFER_SIZE default


class PluginProcess(StdoutDemux):
    """One plugin process driven over stdin/stdout; thread-safe `call`."""

    def __init__(
        self,
        plugin_root: Path = REPO_ROOT,
        python: str = sys.executable,
        env: dict[str, str] | None = None,
        max_line_bytes: int = MAX_LINE_BYTES,
    ) -> None:
        self.plugin_root = Path(plugin_root)
        self.python = python
        self.env = dict(env or {})
        super().__init__(max_line_bytes)
        self._proc: subprocess.Popen[bytes] | None = None
        self._write_lock = threading.Lock()
        self._stderr_tail: collections.deque[bytes] = collections.deque(maxlen=200)
        self._threads: list[threading.Thread] = []

    # --- lifecycle ------------------------------------------------------------------------------
    def start(self, timeout: float = 30.0) -> float:
        """Spawn the plugin and return the seconds until its first heartbeat."""
        if os.getpid() == 1:
            # The SDK exits when its parent is PID 1 (it reads that as "orphaned"), e.g. in a bare container.
            raise RuntimeError(
                "refusing to run as PID 1: the plugin would exit at once; use `docker run --init`"
            )
        env = {**os.environ, **self.env, "INSTALL_METHOD": "local"}
        began = time.monotonic()
        self._proc = subprocess.Popen(
            [self.python, "-m", "main"],
            cwd=self.plugin_root,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for target in (self._read_stdout, self._read_stderr):
            thread = threading.Thread(target=target, name=f"plugin-{target.__name__}", daemon=True)
            thread.start()
            self._threads.append(thread)
        while not self._ready.wait(0.05):
            if self._proc.poll() is not None or time.monotonic() - began > timeout:
                rc = self._proc.poll()
                self.stop()
                why = f"exited with {rc}" if rc is not None else f"sent no heartbeat within {timeout:g} s"
                raise RuntimeError(f"plugin {why}; stderr tail:\n{self.stderr_text()[-2000:]}")
        return self.heartbeat_times[0] - began

    def stop(self, grace: float = 5.0) -> int | None:
        """SIGTERM, then SIGKILL after `grace` s; closing stdin alone would leave the SDK spinning."""
        proc = self._proc
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        # The readers see EOF once the process is gone; let them finish before closing their pipes:
        # under gevent (the SDK patches any process that imports it) closing a pipe another greenlet
        # is reading raises "reentrant call".
        for thread in self._threads:
            thread.join(timeout=grace)
        for pipe in (proc.stdin, proc.stdout, proc.stderr):
            with contextlib.suppress(OSError, RuntimeError):
                pipe.close()
        self._fail_pending("plugin process stopped")
        return proc.returncode

    def __enter__(self) -> PluginProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise RuntimeError("not started")
        return self._proc.pid

    @property
    def returncode(self) -> int | None:
        return None if self._proc is None else self._proc.poll()

    def rss_bytes(self) -> int:
        with open(f"/proc/{self.pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def stderr_text(self) -> str:
        return b"".join(self._stderr_tail).decode("utf-8", "replace")

    # --- requests -------------------------------------------------------------------------------
    def call(
        self, data: dict, timeout: float = 60.0, on_chunk: Callable[[dict], None] | None = None
    ) -> SessionResult:
        """Send one request in the daemon's envelope and collect its replies until `end`.

        `on_chunk` sees each stream chunk as it arrives (on the reader thread), e.g. to print a reply live.
        """
        session_id = str(uuid.uuid4())
        pending = _Pending(session_id, on_chunk)
        with self._lock:
            self._pending[session_id] = pending
        # Same key order and null fields as the daemon's Go struct; `data` keys sorted like a Go map.
        envelope = {
            "session_id": session_id,
            "conversation_id": None,
            "message_id": None,
            "app_id": None,
            "endpoint_id": None,
            "context": None,
            "event": "request",
        }
        head = json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        line = f'{head[:-1]},"data":{body}}}'
        self.send_raw_line(line.encode())
        if not pending.done.wait(timeout):
            with self._lock:
                self._pending.pop(session_id, None)
            raise SessionTimeout(pending.result, timeout)
        return pending.result

    def send_raw_line(self, line: bytes) -> None:
        """Write bytes to the plugin's stdin, adding the newline the protocol needs if missing."""
        self.send_raw(line if line.endswith(b"\n") else line + b"\n")

    def send_raw(self, data: bytes) -> None:
        if self._proc is None or self._proc.stdin is None:
            raise RuntimeError("not started")
        with self._write_lock:
            self._proc.stdin.write(data)
            self._proc.stdin.flush()

    def _read_stdout(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        self._read_lines(self._proc.stdout)

    def _why_stdout_closed(self) -> str:
        """A plugin that died mid-session says how: its exit code (negative: the signal) and last words,
        so a failure seen only in CI can be read from the test report."""
        proc = self._proc
        code = None
        if proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = proc.wait(2)
        for thread in self._threads:  # the stderr reader: let it take the last lines
            if thread.name.endswith("_read_stderr"):
                thread.join(1)
        tail = self.stderr_text()[-1500:].strip() or "(nothing on stderr)"
        return f"plugin stdout closed (exit code {code}); stderr tail:\n{tail}"

    def _read_stderr(self) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        for chunk in iter(lambda: self._proc.stderr.readline(65536), b""):  # type: ignore[union-attr]
            self._stderr_tail.append(chunk)
