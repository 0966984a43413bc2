"""Streams that own their HTTP response: JSON events over SSE, and raw audio bytes.

Both always close the response (on exhaustion, on error, on `close()`, and when an abandoned
generator is collected), and both raise only typed `Invoke*Error`s — they run inside generators,
where the SDK does not translate errors for us. Nothing is retried here: once a stream started,
re-sending would duplicate work the server already did.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import requests
from dify_plugin.errors.model import InvokeConnectionError, InvokeError, InvokeServerUnavailableError

from models._xinference.errors import bad_response, redact, transport_error
from models._xinference.sse import SSEDecoder, SSEEventTooLarge


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
            text = error if isinstance(error, str) else json.dumps(error)[:300]
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
