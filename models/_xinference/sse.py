"""Server-sent events decoding: raw byte chunks in, the `data` payload of each event out.

Follows the WHATWG event-stream rules that matter for Xinference (sse-starlette): lines end in LF,
CRLF or CR; a blank line ends an event; `:` lines are comments (keep-alive pings); several `data:`
lines of one event are joined with LF. Bytes are decoded incrementally, so a UTF-8 character split
across network reads is kept whole. No Dify or HTTP imports: this is pure parsing.
"""

from __future__ import annotations

import codecs

# No Xinference event comes near this (a chat chunk is a few hundred bytes); a line or event that
# grows past it is a broken server or proxy, and buffering it would eat the plugin's memory.
MAX_EVENT_CHARS = 8 * 1024 * 1024


class SSEEventTooLarge(ValueError):
    """An event (or one line of it) grew past MAX_EVENT_CHARS without ending."""


class SSEDecoder:
    """Feed byte chunks with `feed`; it returns the data payloads of the events they completed."""

    def __init__(self) -> None:
        self._text = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self._data: list[str] = []
        self._data_chars = 0
        self._parts: list[str] = []  # text of an unfinished line, joined only when it ends
        self._parts_chars = 0
        self._pending_cr = False

    def feed(self, chunk: bytes) -> list[str]:
        return self._lines(self._text.decode(chunk))

    def flush(self) -> list[str]:
        """End of stream: an event that was not closed by a blank line is incomplete, not returned."""
        self._lines(self._text.decode(b"", final=True))
        self._join_parts()
        if self._buffer:
            self._line(self._buffer)
            self._buffer = ""
        return []

    @property
    def has_partial_event(self) -> bool:
        return bool(self._data) or bool(self._buffer.strip()) or any(p.strip() for p in self._parts)

    def _lines(self, text: str) -> list[str]:
        # Linear time whatever the chunking: a line without an end is kept in parts (no re-scan,
        # no re-copy per read), and complete lines are found by index, not by re-slicing.
        if not text:
            return []
        if self._pending_cr and text.startswith("\n"):
            text = text[1:]  # the LF of a CRLF split across two reads
        self._pending_cr = False
        if "\n" not in text and "\r" not in text:
            self._parts.append(text)
            self._parts_chars += len(text)
            self._check_size()
            return []
        self._join_parts()
        buffer, start, events = self._buffer + text, 0, []
        while (cut := _first_line_end(buffer, start)) is not None:
            line, start = cut
            if buffer[start - 1] == "\r" and start == len(buffer):
                self._pending_cr = True
            event = self._line(line)
            if event is not None:
                events.append(event)
        self._buffer = buffer[start:]
        self._check_size()
        return events

    def _join_parts(self) -> None:
        if self._parts:
            self._buffer += "".join(self._parts)
            self._parts, self._parts_chars = [], 0

    def _check_size(self) -> None:
        if len(self._buffer) + self._parts_chars + self._data_chars > MAX_EVENT_CHARS:
            raise SSEEventTooLarge(f"a stream event grew past {MAX_EVENT_CHARS // 2**20} MiB without ending")

    def _line(self, line: str) -> str | None:
        if not line:
            if not self._data:
                return None
            data, self._data, self._data_chars = "\n".join(self._data), [], 0
            return data
        if line.startswith(":"):
            return None  # comment / keep-alive ping
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
            self._data_chars += len(value) + 1
        return None  # event:, id:, retry: carry nothing Xinference uses


def _first_line_end(buffer: str, start: int = 0) -> tuple[str, int] | None:
    """(line, index after its terminator) for the first complete line from `start`, or None."""
    lf = buffer.find("\n", start)
    cr = buffer.find("\r", start, lf if lf != -1 else len(buffer))
    if cr == -1:
        return None if lf == -1 else (buffer[start:lf], lf + 1)
    if cr + 1 < len(buffer) and buffer[cr + 1] == "\n":
        return buffer[start:cr], cr + 2
    return buffer[start:cr], cr + 1
