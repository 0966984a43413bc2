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
    # Report only: in process it measures the SDK's own per-call work too; the budget a user feels is
    # process_chat_added (plugin-added over the SDK floor, <= 0.5 ms).
    "chat_time_ratio": Budget("Non-stream chat: plugin time / raw time", None, "x"),
    "stream_ttfc_added": Budget("Streaming: time to first chunk added", 2.0, "ms"),
    "stream_cpu_per_chunk": Budget("Streaming: plugin CPU per chunk", None, "us"),
    "embed_request_ratio": Budget("Embed 1,000 texts: requests vs one-per-text", 1 / 16, "x"),
    "embed_time_ratio": Budget("Embed 1,000 texts: wall time vs one-per-text", None, "x"),
    "num_tokens_100k": Budget("get_num_tokens, 100,000 characters", 5.0, "ms"),
    "num_tokens_requests": Budget("get_num_tokens: HTTP requests", 0, "req", "=="),
    "startup_heartbeat": Budget("Startup to first heartbeat", 2.0, "s"),
    "rss_idle": Budget("Plugin RSS, idle", 120, "MB"),
    "rss_50_streams": Budget("Plugin RSS, 50 concurrent streams", 200, "MB"),
    # Plugin-added = ours − floor (bench/floor_plugin: the SDK runtime, constant answers) − plain HTTP.
    "process_chat_added": Budget("Plugin-added, blocking chat (process)", 0.5, "ms"),
    "process_ttfc_added": Budget("Plugin-added, time to first chunk (process)", 0.2, "ms"),
    "process_cpu_chunk_added": Budget("Plugin-added, CPU per streamed chunk (process)", None, "us"),
    "process_embed384_added": Budget("Plugin-added, 1,000 x 384 embeddings (process)", 50, "ms"),
    "process_embed4096_added": Budget("Plugin-added, 1,000 x 4,096 embeddings (process)", 5, "%"),
    "process_embed4096f_added": Budget(
        "Plugin-added, 4,096 dims from a floats-only server (process)", None, "%"
    ),
    "process_rerank256_added": Budget("Plugin-added, rerank of 256 documents (process)", None, "ms"),
    "inproc_chat_added": Budget("Plugin-added, blocking chat (in process)", None, "ms"),
    "inproc_ttfc_added": Budget("Plugin-added, time to first chunk (in process)", None, "ms"),
    "inproc_cpu_chunk_added": Budget("Plugin-added, CPU per streamed chunk (in process)", None, "us"),
    "inproc_embed384_added": Budget("Plugin-added, 1,000 x 384 embeddings (in process)", None, "ms"),
    "inproc_embed4096_added": Budget("Plugin-added, 1,000 x 4,096 embeddings (in process)", None, "%"),
    "inproc_embed4096f_added": Budget(
        "Plugin-added, 4,096 dims from a floats-only server (in process)", None, "%"
    ),
    "inproc_rerank256_added": Budget("Plugin-added, rerank of 256 documents (in process)", None, "ms"),
    # bench/uptime.py: 20,000 mixed calls through one plugin process (--quick: 3,000), one set of
    # credentials per model, then 2,000 distinct ones; growth and deltas are measured after warm-up
    "uptime_rss_growth": Budget("Uptime: RSS growth after warm-up", 5, "MB"),
    "uptime_fds_delta": Budget("Uptime: open FDs, end - after warm-up", 0, "FDs"),
    "uptime_threads_delta": Budget("Uptime: threads, end - after warm-up", 0, "threads"),
    "uptime_unexpected": Budget("Uptime: calls that did not end as expected", 0, "calls", "=="),
    "uptime_creds_rss_growth": Budget("Uptime, 2,000 credentials: RSS growth after warm-up", 5, "MB"),
    # 64 pooled sessions (sessions.py), each holding the connections it had in use at once: ±2 in flux
    "uptime_creds_fds_delta": Budget("Uptime, 2,000 credentials: open FDs, end - after warm-up", 2, "FDs"),
    # gevent's resolver pool (the SDK patches sockets with gevent) grows to the peak of concurrent connects
    # (at most 10) and keeps its threads: with 2,000 sessions a new peak of 2 may come after warm-up
    "uptime_creds_threads_delta": Budget(
        "Uptime, 2,000 credentials: threads, end - after warm-up", 1, "threads"
    ),
    "uptime_creds_unexpected": Budget(
        "Uptime, 2,000 credentials: calls not ended as expected", 0, "calls", "=="
    ),
}
