"""The writing half of the replay server's HTTP handler: the connection settings it shares with uvicorn and
the ways an answer goes out (a JSON or byte body, a recorded HTTP dump, a chunked stream of frames, a
recording chosen by file name). tools/replay/handler.py builds the Xinference routes on top of it."""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol

from tools.replay.data import JSON, _dump, _read, _sse_frames


class ReplayState(Protocol):
    """What the handler reads from the server that owns it (server.ReplayServer)."""

    api_key: str | None
    frame_delay: float
    descriptions: dict[str, dict[str, Any]]
    vectors: list[list[float]]

    def record(self, entry: tuple[str, str, dict[str, str], bytes]) -> None: ...


class _ReplayWriter(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked streams, as uvicorn serves them
    # Send headers and body without waiting for a delayed ACK (Nagle): uvicorn sets TCP_NODELAY too,
    # and without it every replayed answer arrived ~40 ms late.
    disable_nagle_algorithm = True
    replay: ReplayState  # set by ReplayServer

    def log_message(self, format: str, *args: object) -> None:
        pass  # tests read ReplayServer.requests instead of a log

    # --- writing -------------------------------------------------------------------------------
    def _send(
        self, status: int, body: object, ctype: str = JSON, headers: dict[str, str] | None = None
    ) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
        self.send_response(status)
        for key, value in {"content-type": ctype, **(headers or {})}.items():
            self.send_header(key, value)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send_dump(self, name: str, uid: str | None = None) -> None:
        status, headers, body = _dump(name)
        if uid is not None:  # the recordings asked about "no-such-model"
            body = body.replace(b"no-such-model", uid.encode())
        ctype = headers.pop("content-type", JSON)
        self._send(status, body, ctype, headers)

    def _send_frames(self, frames: list[bytes], ctype: str) -> None:
        self.send_response(200)
        self.send_header("content-type", ctype)
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        try:
            for frame in frames:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(frame), frame))
                self.wfile.flush()
                if self.replay.frame_delay:
                    time.sleep(self.replay.frame_delay)
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client hung up mid-stream; nothing to tell it

    def _send_recording(self, name: str) -> None:
        if name.endswith("_raw_sse.txt"):
            return self._send_frames(_sse_frames(_read(name)), "text/event-stream; charset=utf-8")
        status = (
            500
            if name in ("llm_07_completions_nonstream.json", "llm_14_chat_on_generate_model.json")
            else 200
        )
        self._send(status, _read(name))
