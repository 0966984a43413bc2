"""Sessions, checks and cluster probes for the tests against a real Xinference cluster (see conftest.py)."""

from __future__ import annotations

import json
import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tests.real.support import HELLO, WEATHER_TOOL, llm_text, llm_tool_calls
from tools.console import payloads
from tools.console.session import SessionTimeout

CLUSTER_URL = os.environ.get("XINFERENCE_CLUSTER_URL", "")
WORKERS: dict[str, dict[str, Any]] = json.loads(os.environ.get("XINFERENCE_CLUSTER_WORKERS") or "{}")
UIDS: dict[str, str] = json.loads(os.environ.get("XINFERENCE_CLUSTER_UIDS") or "{}")
REPORT = Path(os.environ.get("XINFERENCE_CLUSTER_REPORT") or "/nonexistent/cluster-report.json")

# Generous: each replica answers one request at a time (the Transformers engine serialises them), so
# 40 concurrent LLM sessions queue for a while on a loaded 2-core machine. Still bounded.
INVOKE_TIMEOUT = 300  # the plugin's invoke_timeout credential: no session may outlive it by much
SESSION_TIMEOUT = 420  # the test's own bound per session (the plugin must end it long before)
KINDS = ("chat-stream", "chat-blocking", "tools-stream", "tools-blocking", "embed")
_http = requests.Session()
_http.trust_env = False  # 127.0.0.1 only, never through a proxy


def pause(seconds: float) -> None:
    """Really wait: the root conftest replaces time.sleep with a no-op (for the retry back-off), and a
    polling loop on that no-op spins and starves the threads that read the plugin's answers."""
    threading.Event().wait(seconds)


def credentials(uid: str) -> dict[str, Any]:
    return {
        "server_url": CLUSTER_URL,
        "model_uid": uid,
        "invoke_timeout": str(INVOKE_TIMEOUT),
        "max_retries": "1",
        "tls_verify": True,
    }


def request_for(kind: str, i: int) -> dict:
    if kind == "embed":
        texts = [f"cluster session {i} text {k}" for k in range(1 + i % 3)]
        return payloads.embed("cluster-embed", credentials(UIDS["embed"]), texts)
    tools = [WEATHER_TOOL] if kind.startswith("tools") else None
    content = "What is the weather like in Paris today?" if tools else f"Hello, who are you? (#{i})"
    return payloads.invoke_llm(
        "cluster-llm",
        credentials(UIDS["llm"]),
        [{"role": "user", "content": content}],
        tools=tools,
        stream=kind.endswith("stream"),
        parameters={"temperature": 0, "max_tokens": 64},
    )


@dataclass
class Outcome:
    i: int
    kind: str
    started: float
    ended: float = 0.0
    error_type: str | None = None  # None: succeeded with the complete answer
    message: str = ""
    problems: list[str] = field(default_factory=list)  # wrong success: short answer, wrong shape, hang

    @property
    def ok(self) -> bool:
        return self.error_type is None and not self.problems


def run_session(plugin, kind: str, i: int) -> Outcome:
    out = Outcome(i, kind, time.monotonic())
    data = request_for(kind, i)
    try:
        result = plugin.call(data, timeout=SESSION_TIMEOUT)
    except SessionTimeout:
        out.ended = time.monotonic()
        out.problems.append(f"no end within {SESSION_TIMEOUT} s")
        return out
    out.ended = time.monotonic()
    if result.violation is not None:
        out.problems.append(f"protocol violation: {result.violation}")
    if result.error is not None:
        out.error_type = result.error.get("error_type") or "?"
        out.message = result.error.get("message") or ""
        return out
    out.problems += answer_problems(kind, data, result.chunks)
    return out


def answer_problems(kind: str, data: dict, chunks: list[dict]) -> list[str]:
    """Why a successful session's answer is not the complete one (empty list: it is)."""
    if kind == "embed":
        return _embedding_problems(data, chunks)
    finish = [c["delta"].get("finish_reason") for c in chunks if c["delta"].get("finish_reason")]
    if kind.startswith("tools"):
        calls = llm_tool_calls(chunks)
        names = [c["function"]["name"] for c in calls]
        args = [json.loads(c["function"]["arguments"] or "{}") for c in calls]
        if names != ["get_weather"] or args != [{"city": "Paris"}]:
            return [f"tool calls {names} {args}"]
        return _finish_problems(kind, finish, "tool_calls")
    text = llm_text(chunks)
    if text != HELLO:
        return [f"answer {text!r} is not the complete {HELLO!r}"]
    return _finish_problems(kind, finish, "stop")


def _embedding_problems(data: dict, chunks: list[dict]) -> list[str]:
    if len(chunks) != 1:
        return [f"{len(chunks)} embedding results"]
    vectors = chunks[0]["embeddings"]
    if len(vectors) != len(data["texts"]) or any(len(v) != 384 for v in vectors):
        return [f"embeddings of the wrong shape: {[len(v) for v in vectors]}"]
    return []


def _finish_problems(kind: str, finish: list[str], expected: str) -> list[str]:
    """A stream must end with the finish reason; a blocking result carries at most that one."""
    if finish[-1:] == [expected] or (not finish and not kind.endswith("stream")):
        return []
    return [f"finish reasons {finish}, expected {expected!r}"]


def run_many(plugin, kinds: list[str], first: int = 0, workers: int = 50) -> list[Outcome]:
    with ThreadPoolExecutor(min(workers, len(kinds))) as pool:
        futures = [pool.submit(run_session, plugin, k, first + n) for n, k in enumerate(kinds)]
        return [f.result() for f in futures]


def mixed_kinds(count: int) -> list[str]:
    return [KINDS[n % len(KINDS)] for n in range(count)]


# Per-replica request counters from each worker's metrics exporter (xinference/core/model.py labels
# model_request_total with model_uid, replica_index and worker_address).
_COUNTER = re.compile(r"^xinference:model_request_total\{(?P<labels>[^}]*)\}\s+(?P<value>\S+)$", re.M)
_LABEL = re.compile(r'(\w+)="([^"]*)"')


def replica_requests(names: tuple[str, ...] = ("a", "b")) -> dict[str, float]:
    """'<worker>/<uid> replica <i>' → requests that replica has served (workers in `names` only)."""
    counts: dict[str, float] = {}
    for name in names:
        port = WORKERS[name]["metrics_port"]
        text = _http.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        for match in _COUNTER.finditer(text):
            labels = dict(_LABEL.findall(match.group("labels")))
            key = f"{name}/{labels.get('model_uid')} replica {labels.get('replica_index')}"
            counts[key] = counts.get(key, 0.0) + float(match.group("value"))
    return counts


def delta(after: dict[str, float], before: dict[str, float]) -> dict[str, int]:
    return {k: round(v - before.get(k, 0.0)) for k, v in sorted(after.items()) if v - before.get(k, 0.0)}


def active_replicas(uid: str) -> list[str]:
    """Replica uids of `uid` the supervisor still routes to (READY in GET /v1/models/<uid>/replicas;
    GET /v1/workers answers 500 while a dead worker is still registered)."""
    replicas = _http.get(f"{CLUSTER_URL}/v1/models/{uid}/replicas", timeout=10).json()
    return sorted(r["replica_model_uid"] for r in replicas if r.get("status") == "READY")


def record(section: str, data: dict[str, Any]) -> None:
    """Merge one test's numbers into the report file run_cluster.py prints at the end."""
    report = json.loads(REPORT.read_text()) if REPORT.exists() else {}
    report[section] = data
    REPORT.write_text(json.dumps(report, indent=1))


def summary(outcomes: list[Outcome], since: float = 0.0) -> dict[str, Any]:
    errors: dict[str, int] = {}
    for o in outcomes:
        if o.error_type:
            errors[o.error_type] = errors.get(o.error_type, 0) + 1
    times = [o.ended - (since or o.started) for o in outcomes]
    to_error = sorted(o.ended - (since or o.started) for o in outcomes if o.error_type)
    return {
        "sessions": len(outcomes),
        "ok": sum(o.ok for o in outcomes),
        "errors by type": errors,
        "wrong answers": [f"#{o.i} {o.kind}: {p}" for o in outcomes for p in o.problems],
        "slowest end (s)": round(max(times), 1) if times else 0.0,
        "time to error (s) min/median/max": [round(to_error[k], 1) for k in (0, len(to_error) // 2, -1)]
        if to_error
        else [],
    }
