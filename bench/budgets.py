"""Every budget in one place. A result is compared with exactly one of these, by key."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Budget:
    label: str
    limit: float | None  # None: reported, no budget
    unit: str
    op: str = "<="  # "<=" or "=="

    def holds(self, value: float) -> bool | None:
        if self.limit is None:
            return None
        if self.op == "==":
            return value == self.limit
        return value <= self.limit

    def describe(self) -> str:
        if self.limit is None:
            return "(report only)"
        return f"{self.op} {self.limit:g}{' ' + self.unit if self.unit else ''}"


BUDGETS: dict[str, Budget] = {
    "llm_requests_first": Budget("HTTP requests per LLM call, first use", 2, "req"),
    "llm_requests_steady": Budget("HTTP requests per LLM call, steady state", 1, "req", "=="),
    "chat_time_ratio": Budget("Non-stream chat: plugin time / raw time", 1.15, "x"),
    "stream_ttfc_added": Budget("Streaming: time to first chunk added", 2.0, "ms"),
    "stream_cpu_per_chunk": Budget("Streaming: plugin CPU per chunk", None, "us"),
    "embed_request_ratio": Budget("Embed 1,000 texts: requests vs one-per-text", 1 / 16, "x"),
    "embed_time_ratio": Budget("Embed 1,000 texts: wall time vs one-per-text", None, "x"),
    "num_tokens_100k": Budget("get_num_tokens, 100,000 characters", 5.0, "ms"),
    "num_tokens_requests": Budget("get_num_tokens: HTTP requests", 0, "req", "=="),
    "startup_heartbeat": Budget("Startup to first heartbeat", 2.0, "s"),
    "rss_idle": Budget("Plugin RSS, idle", 120, "MB"),
    "rss_50_streams": Budget("Plugin RSS, 50 concurrent streams", 200, "MB"),
}
