"""Streams that own their HTTP response (JSON events over SSE, raw audio bytes), and the SSE wire format.

Both streams always close the response (on exhaustion, on error, on `close()`, and when an abandoned
generator is collected), and both raise only typed `Invoke*Error`s — they run inside generators,
where the SDK does not translate errors for us. Nothing is retried here: once a stream started,
re-sending would duplicate work the server already did.

`SSEDecoder` follows the WHATWG event-stream rules that matter for Xinference (sse-starlette): lines
end in LF, CRLF or CR; a blank line ends an event; `:` lines are comments (keep-alive pings); several
`data:` lines of one event are joined with LF. Bytes are decoded incrementally, so a UTF-8 character
split across network reads is kept whole. It is pure parsing: no HTTP in it.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from typing import Any

import requests
from dify_plugin.errors.model import InvokeConnectionError, InvokeError, InvokeServerUnavailableError

from models._xinference.connection_faults import transport_error
from models._xinference.errors import bad_response, redact

# ---- the SSE wire format: raw byte chunks in, the `data` payload of each event out ----------------

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
        """End of stream: an event that was not closed by a blank line is incomplete, not returned.
        Bytes of an unfinished UTF-8 character are left in the decoder: they cannot complete a line."""
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
        # A `:` line is a comment (keep-alive ping): its field name is "", never "data".
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
            self._data_chars += len(value) + 1
        return None  # event:, id:, retry: carry nothing Xinference uses


def _first_line_end(buffer: str, start: int) -> tuple[str, int] | None:
    """(line, index after its terminator) for the first complete line from `start`, or None."""
    lf = buffer.find("\n", start)
    cr = buffer.find("\r", start, lf if lf != -1 else len(buffer))
    if cr == -1:
        return None if lf == -1 else (buffer[start:lf], lf + 1)
    if cr + 1 < len(buffer) and buffer[cr + 1] == "\n":
        return buffer[start:cr], cr + 2
    return buffer[start:cr], cr + 1


# ---- streams that own their response -------------------------------------------------------------


class _OwnedResponse:
    def __init__(self, response: requests.Response, server_url: str, what: str) -> None:
        self._response = response
        self._server_url = server_url
        self.what = what
        self.closed = False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._response.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _raw_chunks(self) -> Iterator[bytes]:
        try:
            # chunk_size=None hands over each transfer chunk as soon as it arrives; a fixed size
            # could block until that many bytes came, delaying the first token.
            yield from self._response.iter_content(chunk_size=None)
        except requests.RequestException as exc:
            raise transport_error(exc, self._server_url, self.what) from None
        except OSError as exc:  # reset after headers can surface as a bare socket error
            raise InvokeConnectionError(
                f"{self.what} at {self._server_url}: connection lost ({exc})"
            ) from None


class EventStream(_OwnedResponse):
    """Iterates the JSON objects of an SSE response.

    `require_done`: chat streams end with `data: [DONE]`; reaching EOF without it means the
    connection was cut, which is an error, not a short answer. `/v1/completions` never sends
    `[DONE]`, so for it a clean EOF (no half-received event) is the normal end.
    """

    def __init__(
        self,
        response: requests.Response,
        server_url: str,
        what: str,
        *,
        require_done: bool,
        secret: str | None = None,
    ):
        super().__init__(response, server_url, what)
        self._require_done = require_done
        self._secret = secret  # the API key: never repeated from an in-band error or an excerpt

    def __iter__(self) -> Iterator[dict[str, Any]]:
        try:
            yield from self._events()
        except InvokeError as err:
            raise redact(err, self._secret)  # noqa: B904  (the same error, re-raised)
        finally:
            self.close()

    def _events(self) -> Iterator[dict[str, Any]]:
        decoder = SSEDecoder()
        for chunk in self._raw_chunks():
            try:
                events = decoder.feed(chunk)
            except SSEEventTooLarge as exc:
                raise bad_response(self.what, str(exc)) from None
            for data in events:
                if data.strip() == "[DONE]":
                    self._drain()
                    return
                yield self._parse(data)
        decoder.flush()
        if decoder.has_partial_event:
            raise InvokeConnectionError(f"{self.what}: the stream was cut in the middle of an event")
        if self._require_done:
            raise InvokeConnectionError(
                f"{self.what}: the stream ended before the server said it was done; the answer is incomplete"
            )

    def _drain(self) -> None:
        """Read the few bytes after [DONE] (the chunked-encoding terminator) so the connection goes
        back to the pool; closing an unfinished body would force a new TCP connect next call."""
        try:
            for _ in zip(range(4), self._response.iter_content(chunk_size=None), strict=False):
                pass
        except (requests.RequestException, OSError):
            pass  # the answer is complete; a messy ending only costs the connection

    def _parse(self, data: str) -> dict[str, Any]:
        try:
            event = json.loads(data)
        except ValueError:
            raise bad_response(self.what, f"a stream event is not JSON: {data[:120]!r}") from None
        if not isinstance(event, dict):
            raise bad_response(self.what, f"a stream event is not a JSON object: {data[:120]!r}")
        error = event.get("error")
        if error:
            # Xinference reports failures after the 200 in-band: data: {"error": "<text>"}
            text = error if isinstance(error, str) else json.dumps(error)
            raise InvokeServerUnavailableError(
                f"Xinference reported an error during {self.what}: {text[:300]}"
            )
        return event


class ByteStream(_OwnedResponse):
    """Iterates raw body bytes as they arrive (streamed TTS audio is raw bytes, not SSE)."""

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self._raw_chunks():
                if chunk:
                    yield chunk
        finally:
            self.close()
