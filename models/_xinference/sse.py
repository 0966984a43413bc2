"""Server-sent events decoding: raw byte chunks in, the `data` payload of each event out.

Follows the WHATWG event-stream rules that matter for Xinference (sse-starlette): lines end in LF,
CRLF or CR; a blank line ends an event; `:` lines are comments (keep-alive pings); several `data:`
lines of one event are joined with LF. Bytes are decoded incrementally, so a UTF-8 character split
across network reads is kept whole. No Dify or HTTP imports: this is pure parsing.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Iterator


class SSEDecoder:
    """Feed byte chunks with `feed`; it returns the data payloads of the events they completed."""

    def __init__(self) -> None:
        self._text = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self._data: list[str] = []
        self._pending_cr = False
        self.saw_event_field = False  # any data line at all, even if its event never ended

    def feed(self, chunk: bytes) -> list[str]:
        return self._lines(self._text.decode(chunk))

    def flush(self) -> list[str]:
        """End of stream: an event that was not closed by a blank line is incomplete, not returned."""
        self._lines(self._text.decode(b"", final=True))
        if self._buffer:
            self._line(self._buffer)
            self._buffer = ""
        return []

    @property
    def has_partial_event(self) -> bool:
        return bool(self._data) or bool(self._buffer.strip())

    def _lines(self, text: str) -> list[str]:
        events: list[str] = []
        if self._pending_cr and text.startswith("\n"):
            text = text[1:]  # the LF of a CRLF split across two reads
        self._pending_cr = False
        self._buffer += text
        while True:
            cut = _first_line_end(self._buffer)
            if cut is None:
                break
            line, end = cut
            rest = self._buffer[end:]
            if self._buffer[end - 1] == "\r" and not rest:
                self._pending_cr = True
            self._buffer = rest
            event = self._line(line)
            if event is not None:
                events.append(event)
        return events

    def _line(self, line: str) -> str | None:
        if not line:
            if not self._data:
                return None
            data, self._data = "\n".join(self._data), []
            return data
        if line.startswith(":"):
            return None  # comment / keep-alive ping
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            self.saw_event_field = True
            self._data.append(value)
        return None  # event:, id:, retry: carry nothing Xinference uses


def _first_line_end(buffer: str) -> tuple[str, int] | None:
    """(line, index after its terminator) for the first complete line, or None."""
    lf = buffer.find("\n")
    cr = buffer.find("\r", 0, lf if lf != -1 else len(buffer))
    if cr == -1:
        return None if lf == -1 else (buffer[:lf], lf + 1)
    if cr + 1 < len(buffer) and buffer[cr + 1] == "\n":
        return buffer[:cr], cr + 2
    return buffer[:cr], cr + 1


def iter_sse_data(chunks: Iterable[bytes]) -> Iterator[str]:
    """Convenience generator over a whole byte stream."""
    decoder = SSEDecoder()
    for chunk in chunks:
        yield from decoder.feed(chunk)
    decoder.flush()
