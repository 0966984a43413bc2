"""Reading a 2xx answer (sessions.read_body / read_json) and writing a request body (encode_json).

A JSON answer is read up to a size cap and parsed only when it is JSON. Anything else (a proxy's HTML
page, a text page, an endless download, a body cut off mid-way) becomes a typed error that names the
request and the server, quotes the start of what came (undecodable bytes replaced), and never carries
the API key. Bodies here arrive the way urllib3 streams them, in chunks."""

from __future__ import annotations

import json

import pytest
import requests
import urllib3
from dify_plugin.errors.model import InvokeConnectionError, InvokeServerUnavailableError

from models._xinference import sessions
from models._xinference.credentials import parse_credentials
from tests.helpers import API_KEY, SERVER, raw_credentials

WHAT = "the description of 'qwen'"
UNUSABLE = f"Xinference sent an unusable answer to {WHAT}: "
MIB = 1024 * 1024
CREDS = parse_credentials(raw_credentials(api_key=API_KEY))


class _Body:
    """A body as urllib3 streams it: `chunks`, then `fault` raised; endless (`amt` bytes a read) when
    `chunks` is None — reading such a body "to the end" never ends. A reader that goes on past
    `ENDLESS_GUARD` bytes fails the test instead of filling memory (the tests' caps are far below it)."""

    ENDLESS_GUARD = 64 * MIB

    def __init__(self, chunks: list[bytes] | None, fault: Exception | None = None) -> None:
        self.chunks, self.fault, self.closed = chunks, fault, False

    def stream(self, amt=None, decode_content=True):
        if self.chunks is None:
            assert amt, "an endless body read to its end"
            for _ in range(self.ENDLESS_GUARD // amt):
                yield b" " * amt
            raise AssertionError(
                f"{self.ENDLESS_GUARD // MIB} MiB of an endless body read: no cap stopped it"
            )
        yield from self.chunks
        if self.fault is not None:
            raise self.fault

    def close(self) -> None:
        self.closed = True


def _answer(body: _Body | bytes, content_type: str | None = "application/json") -> requests.Response:
    response = requests.Response()
    response.status_code, response.url = 200, f"{SERVER}/v1/models/qwen"
    chunks = None if isinstance(body, _Body) else [body[i : i + MIB] for i in range(0, len(body), MIB)]
    response.raw = body if chunks is None else _Body(chunks)
    if content_type is not None:
        response.headers["Content-Type"] = content_type
    return response


def test_a_json_answer_of_several_chunks_is_read_whole():
    data = {"data": [{"embedding": [0.125] * 400_000}]}  # ~2.8 MB: three chunks
    assert sessions.read_json(_answer(json.dumps(data).encode()), WHAT, CREDS) == data


def test_the_size_cap_counts_every_chunk_and_a_body_of_exactly_the_cap_passes(monkeypatch):
    monkeypatch.setattr(sessions, "MAX_JSON_BYTES", 3 * MIB)
    exactly = _answer(_Body([b"1" * MIB] * 3))
    assert sessions.read_body(exactly, WHAT, SERVER) == b"1" * (3 * MIB)
    one_more = _Body([b"1" * MIB] * 3 + [b"1"])
    with pytest.raises(InvokeServerUnavailableError) as info:
        sessions.read_body(_answer(one_more), WHAT, SERVER)
    assert str(info.value) == UNUSABLE + "the answer is larger than 3 MiB"
    assert one_more.closed


def test_an_endless_body_is_refused_at_the_cap(monkeypatch):
    monkeypatch.setattr(sessions, "MAX_JSON_BYTES", 3 * MIB)
    with pytest.raises(InvokeServerUnavailableError, match="larger than 3 MiB"):
        sessions.read_json(_answer(_Body(None)), WHAT, CREDS)


def test_a_body_cut_off_mid_way_is_a_connection_error_naming_the_request_and_server():
    cut = _Body([b'{"data": ['], urllib3.exceptions.ProtocolError("Connection broken: IncompleteRead"))
    with pytest.raises(InvokeConnectionError) as info:
        sessions.read_json(_answer(cut), WHAT, CREDS)
    assert str(info.value).startswith(f"{WHAT} at {SERVER}: ")


def _refusal(response: requests.Response) -> str:
    with pytest.raises(InvokeServerUnavailableError) as info:
        sessions.read_json(response, WHAT, CREDS)
    return str(info.value)


def test_an_html_page_is_named_and_quoted_from_its_start_without_the_key():
    page = b"<html>\xff" + API_KEY.encode() + b"x" * 500
    quoted = "<html>\ufffd[API key]" + "x" * (120 - 7 - len(API_KEY))
    assert _refusal(_answer(page, "text/html; charset=utf-8")) == (
        UNUSABLE + f"expected JSON, got an HTML page (is a proxy in the way?): {quoted!r}"
    )


def test_another_content_type_is_named_as_sent():
    refusal = _refusal(_answer(b"not json", "text/plain"))
    assert refusal == UNUSABLE + "expected JSON, got text/plain: 'not json'"


def test_a_body_labelled_json_that_is_not_is_quoted_from_its_start_without_the_key():
    body = b"{oops\xff" + API_KEY.encode() + b"y" * 500
    quoted = "{oops\ufffd[API key]" + "y" * (120 - 6 - len(API_KEY))
    assert _refusal(_answer(body)) == UNUSABLE + f"the body is not JSON: {quoted!r}"


def test_without_a_content_type_the_body_decides():
    assert sessions.read_json(_answer(b'{"ok": true}', content_type=None), WHAT, CREDS) == {"ok": True}
    assert _refusal(_answer(b"oops", content_type=None)) == UNUSABLE + "the body is not JSON: 'oops'"
