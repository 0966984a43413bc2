"""50 concurrent sessions through one plugin process: streams interleave, nothing crosses or goes missing."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.conftest import API_KEY
from tests.e2e.daemon_checks import finish_reasons, llm_text
from tools.console import payloads
from tools.replay.server import ReplayServer

pytestmark = pytest.mark.slow

SESSIONS = 50
HELLO = "Hello! I am a tiny test model."


@pytest.fixture(scope="module")
def replay() -> Iterator[ReplayServer]:
    # A pause between stream frames keeps many streams open at once, so their chunks must interleave.
    with ReplayServer(api_key=API_KEY, frame_delay=0.01) as server:
        yield server


def _request(i: int, creds) -> tuple[str, dict]:
    kind = ("chat", "embed", "rerank", "error")[i % 4]
    if kind == "chat":
        uid = "test-tiny-qwen2-tools"
        return kind, payloads.invoke_llm(uid, creds("llm", uid), [{"role": "user", "content": f"Hello #{i}"}])
    if kind == "embed":
        texts = [f"session {i} text {k}" for k in range(1 + i % 5)]
        return kind, payloads.embed("test-embed", creds("text-embedding", "test-embed"), texts)
    if kind == "rerank":
        docs = [f"doc {i}-{k} about session {i}" for k in range(3)]
        return kind, payloads.rerank("test-rerank", creds("rerank", "test-rerank"), f"session {i}", docs)
    return kind, payloads.embed(f"missing-{i}", creds("text-embedding", f"missing-{i}"), ["x"])


def _check(i: int, kind: str, data: dict, result, replay: ReplayServer) -> None:
    assert result.ended and result.violation is None, (i, result)
    if kind == "chat":
        assert result.error is None and llm_text(result) == HELLO, (i, result)
        assert finish_reasons(result)[-1] == "stop"
    elif kind == "embed":
        (chunk,) = result.chunks
        assert chunk["embeddings"] == [
            replay.vectors[k % len(replay.vectors)] for k in range(len(data["texts"]))
        ]
    elif kind == "rerank":
        (chunk,) = result.chunks
        assert sorted(d["text"] for d in chunk["docs"]) == sorted(data["docs"]), (i, chunk)
    else:
        assert result.chunks == [] and result.error is not None and f"missing-{i}" in result.error["message"]


def test_fifty_concurrent_sessions(plugin, creds, replay):
    requests = [_request(i, creds) for i in range(SESSIONS)]
    arrivals: list[int] = []  # session ids in the order their chunks came off stdout
    lock = threading.Lock()

    def run(i: int):
        _kind, data = requests[i]

        def on_chunk(_chunk: dict) -> None:
            with lock:
                arrivals.append(i)

        return plugin.call(data, timeout=120, on_chunk=on_chunk)

    began = time.monotonic()
    with ThreadPoolExecutor(SESSIONS) as pool:
        results = list(pool.map(run, range(SESSIONS)))
    elapsed = time.monotonic() - began
    print(f"\n{SESSIONS} concurrent sessions in {elapsed:.2f} s")  # a number for the report (-s)

    assert len({r.session_id for r in results}) == SESSIONS
    for i, ((kind, data), result) in enumerate(zip(requests, results, strict=True)):
        _check(i, kind, data, result, replay)
    assert plugin.violations == [] and plugin.top_level_events == []
    # Interleaving really happened: some chat stream's chunks were interrupted by another session's.
    interrupted = 0
    for i in (i for i in range(SESSIONS) if requests[i][0] == "chat"):
        first, last = arrivals.index(i), len(arrivals) - 1 - arrivals[::-1].index(i)
        interrupted += any(other != i for other in arrivals[first:last])
    assert interrupted >= 2
    assert elapsed < 60
