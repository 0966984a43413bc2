"""Streamed answers over a real socket: a loopback server writes the stream frame by frame with chunked
transfer encoding, as uvicorn does; the first delta reaches Dify while the server is still
generating, and a connection cut mid-stream is an InvokeConnectionError after the text so far."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from dify_plugin.errors.model import InvokeConnectionError

from tests.helpers import fixture_json
from tests.llm.support import (
    chunk,
    content,
    creds,
    hello,
    model,
    sse,
)


class _Loopback(ThreadingHTTPServer):
    """A real server on 127.0.0.1 that describes test-llm and answers chat with `answer(handler)`,
    which writes the stream with chunked transfer encoding, frame by frame, as uvicorn does."""

    def __init__(self, answer):
        super().__init__(("127.0.0.1", 0), _LoopbackHandler)
        self.answer = answer
        self.daemon_threads = True

    def __enter__(self):
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()


class _LoopbackHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        body = json.dumps(fixture_json("llm_04_get_model.json")).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        self.rfile.read(int(self.headers["content-length"]))
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        self.server.answer(self)

    def frame(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()


def test_the_first_delta_reaches_dify_while_the_server_is_still_generating():
    first_seen = threading.Event()

    def answer(handler):
        handler.frame(sse(chunk({"role": "assistant", "content": "First"}), done=False))
        rest = " late" if first_seen.wait(5) else " (the plugin waited for the whole stream)"
        handler.frame(sse(chunk({"content": rest}), chunk({}, "stop")))
        handler.wfile.write(b"0\r\n\r\n")

    with _Loopback(answer) as url:
        stream = model().invoke("m", creds(server_url=url), hello(), {}, None, None, True, "u")
        first = next(stream)
        assert first.delta.message.content == "First"
        first_seen.set()
        rest = list(stream)
    assert content(rest) == " late"
    assert rest[-1].delta.finish_reason == "stop"


def test_a_connection_cut_mid_stream_is_an_invoke_connection_error():
    def answer(handler):
        handler.frame(
            sse(chunk({"role": "assistant", "content": "Hel"}), chunk({"content": "lo"}), done=False)
        )
        handler.wfile.write(b'ff\r\ndata: {"cho')  # a chunk announced, then the connection drops
        handler.wfile.flush()
        handler.close_connection = True

    with _Loopback(answer) as url:
        received = []
        with pytest.raises(
            InvokeConnectionError, match=r"connection was cut|connection lost|cut in the middle"
        ):
            for piece in model().invoke("m", creds(server_url=url), hello(), {}, None, None, True, "u"):
                received.append(piece)
    assert content(received) == "Hello"
