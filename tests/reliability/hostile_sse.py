"""Event-stream misbehaviours of the hostile server: streams cut mid-frame or mid-connection,
without [DONE], with an error or non-JSON frame, stalled, endless, flooded with keep-alives, with
bad UTF-8 (also for plain bodies), or quoting the caller's Authorization header.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from tests.reliability.hostile_answers import GOOD_FRAMES, HUGE_BYTES, sse

if TYPE_CHECKING:
    from tests.reliability.hostile_wire import Wire as Handler


def _sse_cut_mid_frame(h: Handler) -> None:
    """Two good frames, then half a frame and a clean end of the chunked body."""
    h.start_chunked()
    for frame in GOOD_FRAMES[:2]:
        h.chunk(frame)
    h.chunk(GOOD_FRAMES[2][:25])
    h.end_chunked()


def _sse_cut_connection(h: Handler) -> None:
    """Two good frames, half a frame, then the TCP connection drops (no chunked terminator)."""
    h.start_chunked()
    for frame in GOOD_FRAMES[:2]:
        h.chunk(frame)
    h.chunk(GOOD_FRAMES[2][:25])
    h.reset()


def _sse_no_done(h: Handler) -> None:
    """Every frame but [DONE]: the stream ends cleanly between events."""
    h.start_chunked()
    for frame in GOOD_FRAMES[:-1]:
        h.chunk(frame)
    h.end_chunked()


def _sse_error_frame(h: Handler) -> None:
    h.start_chunked()
    for frame in GOOD_FRAMES[:2]:
        h.chunk(frame)
    h.chunk(sse(json.dumps({"error": "RuntimeError: engine crashed while generating"})))
    h.end_chunked()


def _sse_non_json(h: Handler) -> None:
    h.start_chunked()
    h.chunk(GOOD_FRAMES[0])
    h.chunk(sse("<html>oops</html>"))
    h.end_chunked()


def _sse_stall(h: Handler) -> None:
    """Two frames, then silence longer than the read timeout (watching for the client to hang up)."""
    h.start_chunked()
    for frame in GOOD_FRAMES[:2]:
        h.chunk(frame)
    h.stall_until_client_closes()


def _sse_endless_line(h: Handler) -> None:
    """An event line that never ends, sent as fast as possible (no read timeout ever fires)."""
    h.start_chunked()
    h.chunk(GOOD_FRAMES[0])
    h.chunk(b'data: {"choices": [{"delta": {"content": "')
    block = b"A" * (1024 * 1024)
    sent = 0
    while sent < HUGE_BYTES and not h.owner.stopping.is_set():
        h.chunk(block)
        sent += len(block)
    h.close_connection = True


def _sse_ping_flood(h: Handler) -> None:
    """A good answer after one 2 MB transfer chunk of 250 000 keep-alive comment lines."""
    h.start_chunked()
    h.chunk(GOOD_FRAMES[0])
    h.chunk(b": ping\r\n" * 250_000)
    for frame in GOOD_FRAMES[1:]:
        h.chunk(frame)
    h.end_chunked()


def _sse_bad_utf8(h: Handler) -> None:
    h.start_chunked()
    h.chunk(GOOD_FRAMES[0])
    choice = b'{"index": 0, "delta": {"content": "bad \xff\xfe bytes"}, "finish_reason": null}'
    h.chunk(b'data: {"choices": [' + choice + b"]}\r\n\r\n")
    for frame in GOOD_FRAMES[-2:]:
        h.chunk(frame)
    h.end_chunked()


def _bad_utf8(h: Handler) -> None:
    if h.stream_requested():
        return _sse_bad_utf8(h)
    h.send(200, b'{"object": "list", "data": "\xff\xfe\xfd"}', "application/json")


def _echo_in_stream(h: Handler) -> None:
    h.start_chunked()
    h.chunk(GOOD_FRAMES[0])
    h.chunk(sse(json.dumps({"error": f"auth failed for {h.headers.get('authorization')}"})))
    h.end_chunked()


SSE_MISBEHAVIOURS = {
    "sse_echo": _echo_in_stream,
    "sse_cut": _sse_cut_mid_frame,
    "sse_drop": _sse_cut_connection,
    "sse_nodone": _sse_no_done,
    "sse_error": _sse_error_frame,
    "sse_nonjson": _sse_non_json,
    "sse_stall": _sse_stall,
    "sse_endless": _sse_endless_line,
    "sse_flood": _sse_ping_flood,
    "badutf8": _bad_utf8,
}
