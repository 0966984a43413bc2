"""What one request produced on the plugin's stdout, and the errors a caller can get."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class PluginError(Exception):
    """A session ended with an `error` message; carries the SDK's error_type and message."""

    def __init__(self, error: dict[str, Any]) -> None:
        self.error_type = str(error.get("error_type", "?"))
        self.message = str(error.get("message", ""))
        self.details = error.get("args") or {}
        super().__init__(f"{self.error_type}: {self.message}")


class ProtocolViolation(Exception):
    """The plugin broke the stdio protocol (no `end`, an over-long line, a stray message)."""


@dataclass
class SessionResult:
    session_id: str
    chunks: list[dict] = field(default_factory=list)
    error: dict | None = None
    ended: bool = False
    violation: str | None = None  # set when the session was killed by a protocol violation

    def raise_for_error(self) -> SessionResult:
        if self.violation:
            raise ProtocolViolation(self.violation)
        if self.error is not None:
            raise PluginError(self.error)
        if not self.ended:
            raise ProtocolViolation(f"session {self.session_id} has no end")
        return self


class SessionTimeout(TimeoutError):
    def __init__(self, result: SessionResult, timeout: float) -> None:
        self.result = result
        super().__init__(f"no end for session {result.session_id} within {timeout:g} s")
