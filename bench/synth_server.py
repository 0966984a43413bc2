"""A tiny instant server on 127.0.0.1 for what no recording has: a chat stream of N chunks.

It answers `GET /v1/models/bench-synth` with the recorded test-llm description and streams N
content chunks (chunked transfer encoding, one SSE event per chunk, as uvicorn sends them) for any
`POST /v1/chat/completions`. Used only to measure CPU per chunk over a long stream, so it runs in
its own process (`python -m bench.synth_server --chunks N` prints its URL): importing dify_plugin
turns the benchmark's threads into gevent greenlets on one OS thread, and the server's CPU would
otherwise be counted as the plugin's.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

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


def synthetic_stream(chunks: int) -> list[bytes]:
    events = [_event({"role": "assistant", "content": ""})]
    events += [_event({"content": f" word{i}"}) for i in range(chunks)]
    usage = {"prompt_tokens": 12, "completion_tokens": chunks, "total_tokens": chunks + 12}
    events.append(_event({}, "stop", usage))
    events.append(b"data: [DONE]\r\n\r\n")
    return events


class SynthServer:
    def __init__(self, chunks: int) -> None:
        self.events = synthetic_stream(chunks)
        description = json.loads((FIXTURES / "llm_04_get_model.json").read_bytes())
        self.description = json.dumps(description).encode()
        self.requests = 0
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

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

        def do_GET(self) -> None:
            server.requests += 1
            if self.path != f"/v1/models/{UID}":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(server.description)))
            self.end_headers()
            self.wfile.write(server.description)

        def do_POST(self) -> None:
            server.requests += 1
            self.rfile.read(int(self.headers.get("content-length", 0)))
            self.send_response(200)
            self.send_header("content-type", "text/event-stream; charset=utf-8")
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            for event in server.events:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
            self.wfile.write(b"0\r\n\r\n")

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve one synthetic chat stream of N chunks on 127.0.0.1.")
    parser.add_argument("--chunks", type=int, default=2000)
    args = parser.parse_args()
    with SynthServer(args.chunks) as server:
        print(server.url, flush=True)
        sys.stdin.read()  # runs until the parent closes our stdin


if __name__ == "__main__":
    main()
