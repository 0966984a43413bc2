"""A tiny instant server on 127.0.0.1 for what no recording has: long chat streams, embeddings of
any size and a rerank of many documents.

Model UIDs say what to answer (descriptions are the recorded 4.1.0 ones, adjusted):
  bench-synth         chat, `--chunks` content chunks per stream (the CPU-per-chunk stream)
  bench-chat-<n>      chat, n content chunks per stream; a blocking chat answers the recorded reply
  bench-embed-<dims>  embeddings of <dims> float32 values (base64 when asked, as 4.x sends them)
  bench-embed-<dims>-floats  the same, always as floats (releases up to 3.2 ignore encoding_format)
  bench-rerank        rerank, every document scored
Answers are built from bench/floor_plugin/floor_models/constants.py, so the floor plugin returns the
same values. It runs in its own process (`python -m bench.synth_server --chunks N` prints its URL):
importing dify_plugin turns the benchmark's threads into gevent greenlets on one OS thread, and the
server's CPU would otherwise be counted as the plugin's.
"""

from __future__ import annotations

import argparse
import base64
import functools
import json
import struct
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench.floor_plugin.floor_models import constants

UID = "bench-synth"
FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "xinference-4.1.0"


def _event(delta: dict, finish: str | None = None, usage: dict | None = None) -> bytes:
    body = {
        "id": "chat-bench",
        "model": UID,
        "created": 1795235021,
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        "usage": usage,
    }
    return b"data: " + json.dumps(body).encode() + b"\r\n\r\n"


@functools.cache
def synthetic_stream(chunks: int) -> list[bytes]:
    events = [_event({"role": "assistant", "content": ""})]
    events += [_event({"content": f" word{i}"}) for i in range(chunks)]
    usage = {"prompt_tokens": 12, "completion_tokens": chunks, "total_tokens": chunks + 12}
    events.append(_event({}, "stop", usage))
    events.append(b"data: [DONE]\r\n\r\n")
    return events


@functools.cache
def _fixture(name: str, **changes: object) -> bytes:
    return json.dumps({**json.loads((FIXTURES / name).read_bytes()), **changes}).encode()


@functools.cache
def _vector_json(dimensions: int, base64_encoded: bool) -> bytes:
    values = constants.vector(dimensions)
    if base64_encoded:
        return json.dumps(base64.b64encode(struct.pack(f"<{dimensions}f", *values)).decode()).encode()
    return json.dumps(list(values)).encode()


def embeddings_answer(uid: str, count: int, dimensions: int, base64_encoded: bool) -> bytes:
    vector = _vector_json(dimensions, base64_encoded)
    items = b",".join(b'{"index":%d,"object":"embedding","embedding":%s}' % (i, vector) for i in range(count))
    usage = b'{"prompt_tokens":%d,"total_tokens":%d}' % (count * 8, count * 8)
    return b'{"object":"list","model":%s,"data":[%s],"usage":%s}' % (json.dumps(uid).encode(), items, usage)


def rerank_answer(count: int) -> bytes:
    results = [{"index": i, "relevance_score": constants.score(i), "document": None} for i in range(count)]
    return json.dumps({"id": "rerank-bench", "results": results, "meta": {"tokens": None}}).encode()


class SynthServer:
    def __init__(self, chunks: int) -> None:
        self.chunks = chunks
        self.requests = 0
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def stream_length(self, uid: str) -> int:
        return int(uid.rpartition("-")[2]) if uid.startswith("bench-chat-") else self.chunks

    def description(self, uid: str) -> bytes | None:
        if uid == UID or uid.startswith("bench-chat-"):
            return _fixture("llm_04_get_model.json")
        if uid.startswith("bench-embed-"):
            dims = int(uid.split("-")[2])
            return _fixture("embed_07_get_model.json", dimensions=dims, max_tokens=512)
        if uid == "bench-rerank":
            return _fixture("rerank_07_get_model.json")
        return None

    def __enter__(self) -> SynthServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def _handler(server: SynthServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # as uvicorn (asyncio) does; else each reply waits ~40 ms for an ACK

        def log_message(self, *args: object) -> None:
            pass

        def _json(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            server.requests += 1
            description = server.description(self.path.removeprefix("/v1/models/"))
            if description is None:
                self.send_error(404)
                return
            self._json(description)

        def do_POST(self) -> None:
            server.requests += 1
            request = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
            uid = str(request.get("model", ""))
            if self.path == "/v1/embeddings":
                texts = request.get("input")
                count = len(texts) if isinstance(texts, list) else 1
                dims = int(uid.split("-")[2])
                base64_encoded = request.get("encoding_format") == "base64" and not uid.endswith("-floats")
                self._json(embeddings_answer(uid, count, dims, base64_encoded))
            elif self.path == "/v1/rerank":
                self._json(rerank_answer(len(request.get("documents") or [])))
            elif not request.get("stream"):
                self._json(_fixture("llm_05_chat_nonstream.json", model=uid))
            else:
                self._stream(server.stream_length(uid))

        def _stream(self, chunks: int) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/event-stream; charset=utf-8")
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            for event in synthetic_stream(chunks):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
            self.wfile.write(b"0\r\n\r\n")

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve synthetic Xinference answers on 127.0.0.1.")
    parser.add_argument("--chunks", type=int, default=2000)
    args = parser.parse_args()
    with SynthServer(args.chunks) as server:
        print(server.url, flush=True)
        sys.stdin.read()  # runs until the parent closes our stdin


if __name__ == "__main__":
    main()
