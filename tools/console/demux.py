"""Demultiplex a plugin's stdout by session_id, checking it the way the daemon would."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from tools.console.session import SessionResult

_SESSION_RE = re.compile(rb'"session_id"\s*:\s*"([^"]+)"')


class _Pending:
    def __init__(self, session_id: str, on_chunk: Callable[[dict], None] | None = None) -> None:
        self.result = SessionResult(session_id)
        self.done = threading.Event()
        self.on_chunk = on_chunk


class StdoutDemux:
    """What came out of the plugin: sessions' replies, heartbeats, logs and protocol violations."""

    def __init__(self, max_line_bytes: int) -> None:
        self.max_line_bytes = max_line_bytes
        self.top_level_events: list[dict] = []  # session-less {"event":"error"} messages
        self.violations: list[str] = []
        self.logs: list[dict] = []
        self.heartbeat_times: list[float] = []  # time.monotonic() of each heartbeat
        self.manifest: dict | None = None
        self._pending: dict[str, _Pending] = {}
        self._lock = threading.Lock()
        self._ready = threading.Event()  # set by the first heartbeat

    def _read_lines(self, stdout: Any) -> None:
        """Reader thread: route each stdout line; any session still open when stdout ends has failed."""
        while True:
            try:
                line = stdout.readline(self.max_line_bytes + 2)
            except (OSError, ValueError):
                break
            if not line:
                break
            if not line.endswith(b"\n") and len(line) > self.max_line_bytes:
                self._over_long(line, stdout)
                continue
            if line.strip():
                self._handle_line(line)
        self._fail_pending(self._why_stdout_closed())

    def _why_stdout_closed(self) -> str:
        """What a session still open when stdout ended is told (the process runner adds how it ended)."""
        return "plugin stdout closed"

    def _over_long(self, head: bytes, stdout: Any) -> None:
        """The daemon's scanner would fail here and kill the plugin; we fail the session it belonged to."""
        match = _SESSION_RE.search(head[:4096])
        size, part = len(head), head
        while not part.endswith(b"\n"):  # drain the rest of the line
            part = stdout.readline(1 << 20)
            if not part:
                break
            size += len(part)
        why = f"stdout line of {size} bytes exceeds the daemon's limit of {self.max_line_bytes}"
        self.violations.append(why)
        if match:
            with self._lock:
                pending = self._pending.pop(match.group(1).decode(), None)
            if pending is not None:
                pending.result.violation = why
                pending.done.set()

    def _handle_line(self, line: bytes) -> None:
        try:
            message = json.loads(line)
        except ValueError:
            self.violations.append(f"non-JSON stdout line: {line[:200]!r}")
            return
        if not isinstance(message, dict):
            self.violations.append(f"non-object stdout line: {line[:200]!r}")
            return
        event = message.get("event")
        if event == "heartbeat":
            self.heartbeat_times.append(time.monotonic())
            self._ready.set()
        elif event == "session":
            self._session_message(message)
        elif event == "log":
            self.logs.append(message.get("data") or {})
        elif event == "error" and message.get("session_id") is None:
            self.top_level_events.append(message)
        elif event is None and self.manifest is None:
            self.manifest = message  # the SDK prints its manifest first; the daemon ignores it
        else:
            self.violations.append(f"unexpected stdout message: {line[:200]!r}")

    def _session_message(self, message: dict) -> None:
        session_id = message.get("session_id")
        body = message.get("data") or {}
        kind, payload = body.get("type"), body.get("data")
        with self._lock:
            pending = self._pending.get(session_id)
            if pending is not None and kind == "end":
                del self._pending[session_id]
        if pending is None:
            self.violations.append(f"{kind} for unknown or finished session {session_id}")
            return
        result = pending.result
        if kind == "stream":
            if result.error is not None:
                self.violations.append(f"stream after error in session {session_id}")
            result.chunks.append(payload)
            if pending.on_chunk is not None:
                pending.on_chunk(payload)
        elif kind == "error":
            if result.error is not None:
                self.violations.append(f"second error in session {session_id}")
            result.error = payload
        elif kind == "end":
            result.ended = True
            pending.done.set()
        else:
            self.violations.append(f"unexpected session message type {kind!r} in {session_id}")

    def _fail_pending(self, why: str) -> None:
        with self._lock:
            pending, self._pending = list(self._pending.values()), {}
        for item in pending:
            item.result.violation = item.result.violation or why
            item.done.set()
