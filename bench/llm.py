"""LLM: requests per call (1), non-stream time ratio (2), time to first chunk and CPU per chunk (3)."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator

import requests
from dify_plugin.entities.model.message import SystemPromptMessage, UserPromptMessage

from bench.common import Result, Target, fresh_process_state, interleaved, median
from bench.synth_server import UID as SYNTH_UID
from models.llm.llm import XinferenceLargeLanguageModel

MESSAGES = [SystemPromptMessage(content="You are terse."), UserPromptMessage(content="Say hi")]
PARAMETERS = {"max_tokens": 16}


def invoke(credentials: dict, *, stream: bool) -> Iterator:
    # The SDK builds a model instance per request; so do we, so its cost is counted.
    model = XinferenceLargeLanguageModel(model_schemas=[])
    return model.invoke(
        credentials["model_uid"], credentials, list(MESSAGES), dict(PARAMETERS), None, None, stream
    )


def requests_per_call(target: Target, reps: int) -> list[Result]:
    credentials = target.credentials(target.llm_uid)
    first, steady = [], []
    for stream in (False, True):
        fresh_process_state()
        before = target.count()
        for _ in invoke(credentials, stream=stream):
            pass
        first.append(target.count() - before)
        for _ in range(reps):
            before = target.count()
            for _ in invoke(credentials, stream=stream):
                pass
            steady.append(target.count() - before)
    raw = "1 (one POST)"
    return [
        Result(
            "llm_requests_first",
            max(first),
            f"{first[0]} non-stream, {first[1]} stream",
            raw,
            {"non_stream": first[0], "stream": first[1]},
        ),
        Result(
            "llm_requests_steady",
            max(steady),
            f"max {max(steady)}, min {min(steady)} over {len(steady)} calls",
            raw,
            {"calls": len(steady), "max": max(steady), "min": min(steady)},
        ),
    ]


def _raw_post(
    session: requests.Session, target: Target, path: str, body: bytes, **kwargs
) -> requests.Response:
    headers = {"Content-Type": "application/json"}
    return session.post(target.url + path, data=body, headers=headers, timeout=120, **kwargs)


def non_stream_ratio(target: Target, reps: int) -> Result:
    credentials = target.credentials(target.llm_uid)
    list(invoke(credentials, stream=False))  # warm: description cached, connection open
    path, body = target.last_post()
    session = target.session()
    _raw_post(session, target, path, body).json()

    def plugin() -> float:
        start = time.perf_counter()
        list(invoke(credentials, stream=False))
        return time.perf_counter() - start

    def raw() -> float:
        start = time.perf_counter()
        _raw_post(session, target, path, body).json()
        return time.perf_counter() - start

    plugin_times, raw_times = interleaved(reps, plugin, raw)
    p, r = median(plugin_times), median(raw_times)
    return Result(
        "chat_time_ratio",
        round(p / r, 3),
        f"{p * 1e3:.2f} ms",
        f"{r * 1e3:.2f} ms",
        {"plugin_ms": p * 1e3, "raw_ms": r * 1e3, "added_ms": (p - r) * 1e3, "reps": reps},
    )


def time_to_first_chunk(target: Target, reps: int) -> Result:
    credentials = target.credentials(target.llm_uid)
    list(invoke(credentials, stream=True))
    path, body = target.last_post()
    session = target.session()

    def plugin() -> float:
        start = time.perf_counter()
        chunks = invoke(credentials, stream=True)
        next(chunks)
        elapsed = time.perf_counter() - start
        for _ in chunks:
            pass
        return elapsed

    def raw() -> float:
        start = time.perf_counter()
        response = _raw_post(session, target, path, body, stream=True)
        lines = response.iter_lines(chunk_size=None)
        for line in lines:
            if line.startswith(b"data:"):
                json.loads(line[5:])
                break
        elapsed = time.perf_counter() - start
        for _ in lines:
            pass
        response.close()
        return elapsed

    raw()
    plugin_times, raw_times = interleaved(reps, plugin, raw)
    p, r = median(plugin_times), median(raw_times)
    return Result(
        "stream_ttfc_added",
        round((p - r) * 1e3, 3),
        f"{p * 1e3:.2f} ms to first chunk",
        f"{r * 1e3:.2f} ms to first data line",
        {"plugin_ms": p * 1e3, "raw_ms": r * 1e3, "reps": reps},
    )


@contextlib.contextmanager
def synth_server(chunks: int) -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.synth_server", "--chunks", str(chunks)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = proc.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"synthetic stream server did not start (said {url!r})")
        yield url
    finally:
        proc.stdin.close()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def cpu_per_chunk(chunks: int, reps: int) -> Result:
    """CPU of this thread (time.thread_time) over a long stream from a server in another process."""
    with synth_server(chunks) as url:
        credentials = {
            "server_url": url,
            "model_uid": SYNTH_UID,
            "invoke_timeout": "120",
            "max_retries": "0",
        }
        session = requests.Session()
        body = json.dumps(
            {"model": SYNTH_UID, "messages": [{"role": "user", "content": "hi"}], "stream": True}
        )

        def plugin() -> float:
            start = time.thread_time()
            got = sum(1 for _ in invoke(credentials, stream=True))
            assert got >= chunks, f"plugin yielded {got} chunks for {chunks}"
            return (time.thread_time() - start) / chunks

        def raw() -> float:
            start = time.thread_time()
            response = session.post(url + "/v1/chat/completions", data=body, stream=True, timeout=120)
            for line in response.iter_lines(chunk_size=None):
                if line.startswith(b"data:"):
                    if line[5:].strip() == b"[DONE]":
                        break
                    json.loads(line[5:])
            response.close()
            return (time.thread_time() - start) / chunks

        plugin(), raw()  # warm: description cached, connections open
        plugin_cpu, raw_cpu = interleaved(reps, plugin, raw)
    p, r = median(plugin_cpu) * 1e6, median(raw_cpu) * 1e6
    return Result(
        "stream_cpu_per_chunk",
        round(p, 1),
        f"{p:.1f} us/chunk",
        f"{r:.1f} us/chunk (parse only)",
        {"plugin_us": p, "raw_us": r, "added_us": p - r, "chunks": chunks, "reps": reps},
    )
