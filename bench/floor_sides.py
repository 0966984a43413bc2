"""The three sides of every floor comparison, each a callable returning seconds (or CPU seconds):

- plain: the same HTTP exchange made with plain `requests` in this process (the network's cost);
- floor: bench/floor_plugin, the same SDK runtime with model classes that return constants;
- ours: this plugin.

Each of floor and ours exists twice: through the real plugin process (`python -m main` over stdio,
as the daemon runs it) and in process (the model class called directly, as bench/llm.py does).
Every side returns (wall seconds, CPU seconds): the CPU of the plugin process (all its threads) or
of this thread, which a shared machine's load disturbs far less than wall time.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import requests

from tools.console import payloads
from tools.console.runtime import PluginProcess

REPO = Path(__file__).resolve().parent.parent
FLOOR_ROOT = REPO / "bench" / "floor_plugin"
TEXTS, BATCH, RERANK_DOCS = 1000, 32, 256
TTFC_CHUNKS, CPU_CHUNKS = 16, 2000
CHAT_UID, CPU_UID, RERANK_UID = f"bench-chat-{TTFC_CHUNKS}", "bench-synth", "bench-rerank"
MESSAGES = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Say hi"}]
PARAMETERS = {"max_tokens": 16}
QUERY = "Which paragraph is about topic 7?"


Times = tuple[float, float]  # (wall seconds, CPU seconds)


def now(cpu: Callable[[], float]) -> Times:
    return time.perf_counter(), cpu()


def since(start: Times, cpu: Callable[[], float]) -> Times:
    return time.perf_counter() - start[0], cpu() - start[1]


def embed_uid(dims: int, floats: bool = False) -> str:
    """`floats`: a server that ignores encoding_format=base64, as releases up to 3.2 do."""
    return f"bench-embed-{dims}{'-floats' if floats else ''}"


def texts(n: int = TEXTS) -> list[str]:
    return [
        f"Chunk {i} of the knowledge base: paragraph text about topic {i % 37}, section {i // 37}."
        for i in range(n)
    ]


def batches(items: list[str], size: int = BATCH) -> list[list[str]]:
    """Dify splits a document's chunks by the schema's max_chunks (32) and sends one call per batch."""
    return [items[i : i + size] for i in range(0, len(items), size)]


def credentials(url: str, uid: str, **floor: str) -> dict[str, str]:
    """The plugin's credentials; the floor reads its answer size from extra keys the plugin ignores."""
    return {"server_url": url, "model_uid": uid, "invoke_timeout": "120", "max_retries": "0", **floor}


def task_cpu_seconds(pid: int) -> float:
    """CPU time of every thread of a process, in ns precision (schedstat), unlike /proc/pid/stat ticks."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat", encoding="ascii") as fh:
                total += int(fh.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # a thread that ended between listdir and open
    return total / 1e9


class Plain:
    """The same exchanges, plain requests: body sent, answer parsed, nothing else."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()

    def _post(self, path: str, body: dict, **kwargs) -> requests.Response:
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        return self.session.post(self.url + path, data=data, headers=headers, timeout=120, **kwargs)

    def chat(self) -> Times:
        body = {"model": CHAT_UID, "messages": MESSAGES, **PARAMETERS, "stream": False}
        start = now(time.thread_time)
        self._post("/v1/chat/completions", body).json()
        return since(start, time.thread_time)

    def _stream(self, uid: str, until_first: bool) -> Times:
        body = {"model": uid, "messages": MESSAGES, **PARAMETERS, "stream": True}
        start = now(time.thread_time)
        response = self._post("/v1/chat/completions", body, stream=True)
        elapsed = None
        for line in response.iter_lines(chunk_size=None):
            if line.startswith(b"data:"):
                if line[5:].strip() == b"[DONE]":
                    break
                json.loads(line[5:])
                if until_first and elapsed is None:
                    elapsed = since(start, time.thread_time)
        response.close()
        return elapsed or since(start, time.thread_time)

    def first_chunk(self) -> Times:
        return self._stream(CHAT_UID, True)

    def stream_cpu(self) -> Times:
        cpu = self._stream(CPU_UID, False)[1] / CPU_CHUNKS
        return cpu, cpu

    def embed(self, dims: int, docs: list[str], floats: bool = False) -> Times:
        start = now(time.thread_time)
        for batch in batches(docs):
            response = self._post("/v1/embeddings", {"model": embed_uid(dims, floats), "input": batch})
            response.raise_for_status()
            response.json()
        return since(start, time.thread_time)

    def rerank(self, docs: list[str]) -> Times:
        start = now(time.thread_time)
        body = {"model": RERANK_UID, "query": QUERY, "documents": docs, "return_documents": False}
        self._post("/v1/rerank", body).json()
        return since(start, time.thread_time)


class ThroughProcess:
    """A plugin (ours or the floor) as the daemon runs it; every call checked for a clean end."""

    def __init__(self, root: Path, url: str, *, floor: bool) -> None:
        self.url, self.floor = url, floor
        self.plugin = PluginProcess(plugin_root=root, python=sys.executable)

    def __enter__(self) -> ThroughProcess:
        self.plugin.start(timeout=60)
        return self

    def __exit__(self, *exc: object) -> None:
        self.plugin.stop()

    def _creds(self, uid: str, **floor: str) -> dict[str, str]:
        return credentials(self.url, uid, **(floor if self.floor else {}))

    def _cpu(self) -> float:
        return task_cpu_seconds(self.plugin.pid)

    def _call(self, data: dict, on_chunk: Callable[[dict], None] | None = None) -> list[dict]:
        return self.plugin.call(data, timeout=300, on_chunk=on_chunk).raise_for_error().chunks

    def _llm(self, uid: str, stream: bool, chunks: int) -> dict:
        creds = self._creds(uid, floor_chunks=str(chunks))
        return payloads.invoke_llm(uid, creds, MESSAGES, stream=stream, parameters=dict(PARAMETERS))

    def chat(self) -> Times:
        data = self._llm(CHAT_UID, False, 1)
        start = now(self._cpu)
        self._call(data)
        return since(start, self._cpu)

    def first_chunk(self) -> Times:
        data, first = self._llm(CHAT_UID, True, TTFC_CHUNKS), []
        start = now(self._cpu)
        self._call(data, lambda _chunk: first or first.append(since(start, self._cpu)))
        return first[0]

    def stream_cpu(self) -> Times:
        data = self._llm(CPU_UID, True, CPU_CHUNKS)
        start = now(self._cpu)
        got = len(self._call(data))
        assert got >= CPU_CHUNKS, f"{got} chunks for {CPU_CHUNKS}"
        cpu = since(start, self._cpu)[1] / CPU_CHUNKS
        return cpu, cpu

    def embed(self, dims: int, docs: list[str], floats: bool = False) -> Times:
        uid = embed_uid(dims, floats)
        calls = [payloads.embed(uid, self._creds(uid, floor_dims=str(dims)), b) for b in batches(docs)]
        start = now(self._cpu)
        for data, batch in zip(calls, batches(docs), strict=True):
            (answer,) = self._call(data)
            assert len(answer["embeddings"]) == len(batch), "a vector per text"
        return since(start, self._cpu)

    def rerank(self, docs: list[str]) -> Times:
        data = payloads.rerank(RERANK_UID, self._creds(RERANK_UID), QUERY, docs)
        start = now(self._cpu)
        (answer,) = self._call(data)
        assert len(answer["docs"]) == len(docs), "every document ranked"
        return since(start, self._cpu)
