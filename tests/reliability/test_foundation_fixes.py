"""Unit tests for the foundation fixes the reliability suite led to (each names the bug it pins)."""

from __future__ import annotations

import time

import pytest
import requests
import responses
from dify_plugin.errors.model import InvokeServerUnavailableError

from models._xinference.client import XinferenceClient
from models._xinference.credentials import parse_credentials
from models._xinference.stream import SSEDecoder, SSEEventTooLarge
from tests.helpers import raw_credentials

EVENT_CAP = 8 * 1024 * 1024  # README "Troubleshooting": a stream event over 8 MiB is refused


def test_sse_line_without_end_is_refused_past_the_cap_in_linear_time():
    """Bug: an endless `data:` line was buffered forever, re-scanned and re-copied on every read
    (quadratic): a 768 MB line took 380 s and all the memory it could get."""
    decoder = SSEDecoder()
    decoder.feed(b'data: {"x": "')
    piece = b"A" * 4096
    started = time.monotonic()
    with pytest.raises(SSEEventTooLarge):
        for _ in range(EVENT_CAP // len(piece) + 2):
            decoder.feed(piece)
    assert time.monotonic() - started < 5


def test_sse_event_of_endless_data_lines_is_refused():
    decoder = SSEDecoder()
    with pytest.raises(SSEEventTooLarge):
        for _ in range(EVENT_CAP // 1000 + 2):
            decoder.feed(b"data: " + b"x" * 1000 + b"\n")


def test_sse_many_lines_in_one_read_are_parsed_in_linear_time():
    """Bug: each complete line re-sliced the rest of the buffer (quadratic in lines per read)."""
    started = time.monotonic()
    assert SSEDecoder().feed(b": ping\r\n" * 300_000 + b"data: ok\r\n\r\n") == ["ok"]
    assert time.monotonic() - started < 5


def test_sse_big_but_finished_events_still_pass():
    payload = "y" * (EVENT_CAP - 65536)  # just under the cap
    decoder = SSEDecoder()
    events = decoder.feed(b"data: ")
    for start in range(0, len(payload), 65536):
        events += decoder.feed(payload[start : start + 65536].encode())
    events += decoder.feed(b"\n\n")
    assert events == [payload]


def _client(**overrides) -> XinferenceClient:
    return XinferenceClient(parse_credentials(raw_credentials(**overrides)))


@responses.activate
def test_every_request_is_streamed_so_the_size_cap_applies():
    """Bug: non-streamed requests let `requests` read the whole body before the cap was checked."""
    responses.get("http://xinference.test:9997/v1/models", json={"data": []})
    _client().list_models()
    assert responses.calls[0].request.req_kwargs["stream"] is True


@responses.activate
@pytest.mark.parametrize(
    "content_type", ["text/html; charset=utf-8", "text/plain", "application/octet-stream"]
)
def test_a_non_json_content_type_is_refused_without_reading_the_body(content_type):
    body = b"<html>" + b"x" * 10_000
    responses.get("http://xinference.test:9997/v1/models", body=body, content_type=content_type)
    with pytest.raises(InvokeServerUnavailableError, match="expected JSON"):
        _client().list_models()


@responses.activate
@pytest.mark.parametrize(("tls_verify", "expected"), [(True, "/etc/ca-for-xinference.pem"), (False, False)])
def test_tls_switch_wins_over_requests_ca_bundle(monkeypatch, tls_verify, expected):
    """Bug: requests lets REQUESTS_CA_BUNDLE override a session's verify=False; an explicit
    per-request value keeps 'Verify TLS certificate: off' off, and 'on' still honours the bundle."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ca-for-xinference.pem")
    responses.get("https://xinference.test:9997/v1/models", json={"data": []})
    _client(server_url="https://xinference.test:9997", tls_verify=tls_verify).list_models()
    assert responses.calls[0].request.req_kwargs["verify"] == expected


def test_read_timeout_inside_a_streamed_body_is_named_as_such():
    """Bug: a stream that stalled after its first events was reported as 'could not connect … check
    Server URL', because requests wraps that read timeout in a plain ConnectionError."""
    import urllib3

    from models._xinference.connection_faults import transport_error

    inner = urllib3.exceptions.ReadTimeoutError(None, "/v1/chat/completions", "Read timed out.")
    err = transport_error(requests.exceptions.ConnectionError(inner), "http://h:9997", "chat")
    assert "stopped answering for longer than the configured timeout" in str(err)
    assert "could not connect" not in str(err)


@responses.activate
def test_a_server_that_echoes_the_key_does_not_get_it_into_the_error():
    """Bug: error messages quote the server's text, and a debugging proxy may echo the request
    headers; the key then reached Dify's UI and logs."""
    from dify_plugin.errors.model import InvokeBadRequestError

    from tests.helpers import API_KEY

    responses.get(
        "http://xinference.test:9997/v1/models", json={"detail": f"bad: Bearer {API_KEY}"}, status=400
    )
    with pytest.raises(InvokeBadRequestError) as caught:
        _client(api_key=API_KEY).list_models()
    assert API_KEY not in str(caught.value) and API_KEY not in repr(caught.value.args)
    assert "[API key]" in str(caught.value)
    assert API_KEY not in caught.value.detail
