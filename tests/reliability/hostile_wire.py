"""The hostile server's wire: the writing primitives every behaviour uses (plain and chunked bodies,
TCP reset, hang, stall until the client hangs up), typed against what the server shares with its
handlers (`HostileState`). hostile_handler.py adds the routing on top."""

from __future__ import annotations

import contextlib
import json
import select
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol

STALL_SECONDS = 6.0  # longer than any invoke_timeout the suite configures for hang cases


class HostileState(Protocol):
    """What the handlers read and report on the server that owns them (hostile_server.HostileServer)."""

    frame_delay: float
    stopping: threading.Event

    def record(self, entry: tuple[str, str, dict[str, str], bytes]) -> None: ...
    def count(self, key: str) -> int: ...
    def saw_client_close(self, path: str) -> None: ...


class Wire(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hostile/1"
    # set per request by the handler's routing
    route: str
    key: str
    body: bytes
    json_body: dict[str, Any]

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    @property
    def owner(self) -> HostileState:
        return self.server.owner  # type: ignore[attr-defined]

    # ---- writing helpers ------------------------------------------------------------------

    def send(self, status: int, body: bytes, content_type: str = "application/json", **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, status: int, data: object, **headers: str) -> None:
        self.send(status, json.dumps(data).encode(), **headers)

    def start_chunked(
        self, content_type: str = "text/event-stream; charset=utf-8", status: int = 200
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def chunk(self, data: bytes) -> None:
        if data:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
            if self.owner.frame_delay:
                time.sleep(self.owner.frame_delay)

    def end_chunked(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def reset(self) -> None:
        """Abort with a TCP RST (SO_LINGER 0), as a crashed proxy or server does."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()

    def hang(self, seconds: float = STALL_SECONDS) -> None:
        self.owner.stopping.wait(seconds)
        self.close_connection = True

    def stall_until_client_closes(self, seconds: float = STALL_SECONDS) -> None:
        """Send nothing more; record when the client closes its end (EOF), or give up after `seconds`."""
        deadline = time.monotonic() + seconds
        while not self.owner.stopping.is_set() and (left := deadline - time.monotonic()) > 0:
            readable, _, _ = select.select([self.connection], [], [], min(left, 0.05))
            if not readable:
                continue
            try:
                data = self.connection.recv(4096)
            except OSError:
                data = b""
            if not data:
                self.owner.saw_client_close(self.path)
                break
        self.close_connection = True

    def stream_requested(self) -> bool:
        return bool(self.json_body.get("stream"))
