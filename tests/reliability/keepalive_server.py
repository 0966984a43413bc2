"""A real HTTP/1.1 keep-alive server on 127.0.0.1 that drops connections the way production does.

Each connection's first request is always answered ("ok"). What happens to the *next* request on the
same kept-alive connection is the server's `on_reuse` mode:
- "idle_close": the server closes the connection just as the request arrives, without reading it (what
  uvicorn's keep-alive timeout, a proxy or a load balancer does to an idle connection); the handler never
  sees that request;
- "reset_before_answer": the handler receives the request, then resets the connection before answering
  (a crash or OOM kill while working on it);
- "reset_mid_answer": the handler starts the answer (status, headers, part of the body), then resets;
- "answer": a normal answer.
A fresh connection's first request is answered unless `on_fresh` says "reset_before_answer".
`handled` counts the requests that reached the handler; `dropped` the ones closed unread; `connections`
the connections accepted. `delay` (s) holds every answer back, so that concurrent calls overlap.
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ANSWER = {"object": "list", "data": [{"index": 0, "object": "embedding", "embedding": [0.5, 0.25]}]}


def _reset(connection: socket.socket) -> None:
    """Abort with a TCP RST (SO_LINGER 0), as a killed process or a load balancer does."""
    with contextlib.suppress(OSError):
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    @property
    def owner(self) -> KeepAliveServer:
        return self.server.owner  # type: ignore[attr-defined]

    def handle(self) -> None:
        self.owner.count("connections")
        self.close_connection = True
        self.reused = False
        self.handle_one_request()
        while not self.close_connection:
            self.reused = True
            if self.owner.on_reuse == "idle_close":
                select.select([self.connection], [], [], 5)  # the next request is arriving ...
                self.owner.count("dropped")
                _reset(self.connection)  # ... and the server closes the connection unread
                return
            self.handle_one_request()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.owner.count("handled")
        time.sleep(self.owner.delay)
        mode = self.owner.on_reuse if self.reused else self.owner.on_fresh
        if mode == "reset_before_answer":
            self.close_connection = True
            return _reset(self.connection)
        body = json.dumps(ANSWER).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body) + (100 if mode == "reset_mid_answer" else 0)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        if mode == "reset_mid_answer":
            self.close_connection = True
            _reset(self.connection)

    do_GET = do_POST


class _Listener(ThreadingHTTPServer):
    request_queue_size = 64  # the default 5 would refuse a burst of concurrent calls with resets


class KeepAliveServer:
    def __init__(self, on_reuse: str = "answer", on_fresh: str = "answer") -> None:
        self.on_reuse = on_reuse
        self.on_fresh = on_fresh
        self.handled = 0
        self.dropped = 0
        self.connections = 0
        self.delay = 0.0
        self._lock = threading.Lock()
        self._httpd = _Listener(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.owner = self  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def count(self, what: str) -> None:
        with self._lock:
            setattr(self, what, getattr(self, what) + 1)

    def __enter__(self) -> KeepAliveServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
