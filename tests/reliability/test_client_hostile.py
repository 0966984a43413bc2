"""The transport layer (XinferenceClient + streams) against a hostile server, in process.

Fast and independent of the model classes: every misbehaviour of hostile_server.py, read through
the client's three shapes of request (GET description, POST JSON, POST SSE stream), must end in the
typed error the foundation decided on, within the timeout plus a margin.
"""

from __future__ import annotations

import time

import pytest
import requests
from dify_plugin.errors.model import (
    InvokeAuthorizationError,
    InvokeBadRequestError,
    InvokeConnectionError,
    InvokeRateLimitError,
    InvokeServerUnavailableError,
)

from models._xinference import sessions
from models._xinference.client import XinferenceClient
from models._xinference.credentials import parse_credentials
from tests.helpers import API_KEY
from tests.reliability.hostile_server import CHAT_PIECES, STALL_SECONDS, HostileServer, closed_port

TIMEOUT = 2.0  # invoke_timeout for every case; hang cases must end within it plus MARGIN
MARGIN = 3.0

Conn = InvokeConnectionError
Unavail = InvokeServerUnavailableError
Bad = InvokeBadRequestError

# misbehaviour -> expected error for (describe, post_json, chat stream); None = succeeds
CASES = {
    "html502": (Unavail, Unavail, Unavail),
    "text500": (Unavail, Unavail, Unavail),
    "nonjson": (Unavail, Unavail, Unavail),
    "missing": (Unavail, None, Unavail),  # post_json returns the JSON; the model class checks fields
    "ctype": (Unavail, Unavail, Unavail),
    "empty": (Unavail, Unavail, Unavail),
    "badutf8": (Unavail, Unavail, None),  # in a stream: replaced by U+FFFD (foundation decision)
    "reset": (Conn, Conn, Conn),
    "reset0": (Conn, Conn, Conn),
    "silent": (Conn, Conn, Conn),
    "redirect": (Bad, Bad, Bad),
    "huge": (Unavail, Unavail, Unavail),
    "hugejson": (Unavail, Unavail, Unavail),
    "hugeerr": (Unavail, Unavail, Unavail),
    "loading": (None, None, None),
    "loadingx": (Unavail, Unavail, Unavail),
    "503": (Unavail, Unavail, Unavail),
    "429": (InvokeRateLimitError,) * 3,
    "401": (InvokeAuthorizationError,) * 3,
    "403": (InvokeAuthorizationError,) * 3,
    "400": (Bad, Bad, Bad),
    "422": (Bad, Bad, Bad),
}
STREAM_CASES = {  # only meaningful for an event stream
    "sse_cut": Conn,
    "sse_drop": Conn,
    "sse_nodone": Conn,
    "sse_error": Unavail,
    "sse_nonjson": Unavail,
    "sse_stall": Conn,
    "sse_endless": Unavail,
}


@pytest.fixture(scope="module")
def server():
    with HostileServer() as srv, HostileServer(host="127.0.0.2") as other:
        srv.redirect_to(other.origin)
        srv.other = other
        yield srv


@pytest.fixture(autouse=True)
def _small_json_cap(monkeypatch):
    """The real cap (512 MiB) would make this process read that much; the rule is the same at 8 MiB."""
    monkeypatch.setattr(sessions, "MAX_JSON_BYTES", 8 * 1024 * 1024)


def _client(server_url: str, **extra: str) -> XinferenceClient:
    raw = {
        "server_url": server_url,
        "model_uid": "llm-1",
        "api_key": API_KEY,
        "invoke_timeout": str(TIMEOUT),
        "max_retries": "2",
        **extra,
    }
    return XinferenceClient(parse_credentials(raw))


def _describe(client: XinferenceClient) -> object:
    return client.describe(fresh=True)


def _post(client: XinferenceClient) -> object:
    return client.post_json("/v1/embeddings", {"model": "embed-1", "input": ["a", "b"]}, what="embed")


def _stream(client: XinferenceClient) -> list[dict]:
    body = {"model": "llm-1", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    with client.stream_events("/v1/chat/completions", body, what="chat on 'llm-1'") as events:
        return list(events)


OPS = {"describe": (_describe, 0), "post": (_post, 1), "stream": (_stream, 2)}


def _run(op, client):
    started = time.monotonic()
    try:
        return op(client), None, time.monotonic() - started
    except Exception as exc:
        return None, exc, time.monotonic() - started


@pytest.mark.parametrize("op_name", OPS)
@pytest.mark.parametrize("case", CASES)
def test_misbehaviour_gives_the_typed_error_in_time(server, case, op_name):
    op, column = OPS[op_name]
    expected = CASES[case][column]
    scope = "all" if op_name == "describe" else "post"
    _result, error, elapsed = _run(op, _client(server.url(case, scope)))
    assert elapsed < TIMEOUT + MARGIN, f"{case}/{op_name} took {elapsed:.1f}s"
    if expected is None:
        assert error is None, f"{case}/{op_name}: {error!r}"
    else:
        assert type(error).__name__ == expected.__name__ and isinstance(error, expected), repr(error)
        assert API_KEY not in str(error)
        assert str(error).strip(), "an error must say what happened"


@pytest.mark.parametrize("case", STREAM_CASES)
def test_stream_misbehaviour_gives_the_typed_error_in_time(server, case):
    _result, error, elapsed = _run(_stream, _client(server.url(case)))
    assert elapsed < TIMEOUT + MARGIN, f"{case} took {elapsed:.1f}s"
    expected = STREAM_CASES[case]
    assert isinstance(error, expected) and type(error).__name__ == expected.__name__, repr(error)
    assert API_KEY not in str(error)


def test_good_stream_is_complete(server):
    events = _stream(_client(server.url("ok")))
    text = "".join(e["choices"][0]["delta"].get("content") or "" for e in events)
    assert text == "".join(CHAT_PIECES)
    assert events[-1]["choices"][0]["finish_reason"] == "stop"


def test_invalid_utf8_in_a_stream_is_replaced_and_the_rest_kept(server):
    events = _stream(_client(server.url("badutf8")))
    text = "".join(e["choices"][0]["delta"].get("content") or "" for e in events)
    assert text == "bad \ufffd\ufffd bytes"
    assert events[-1]["choices"][0]["finish_reason"] == "stop"


def test_a_flood_of_keep_alive_lines_is_parsed_in_linear_time(server):
    started = time.monotonic()
    events = _stream(_client(server.url("sse_flood")))
    assert "".join(e["choices"][0]["delta"].get("content") or "" for e in events) == "".join(CHAT_PIECES)
    assert time.monotonic() - started < TIMEOUT + MARGIN


def test_redirect_is_not_followed_and_the_key_stays_home(server):
    url = server.url("redirect")
    with pytest.raises(InvokeBadRequestError, match="redirect") as caught:
        _post(_client(url))
    assert server.other.origin in str(caught.value)  # the message says where it pointed
    assert server.other.requests == []  # nothing, and so no Authorization header, went there
    assert len(server.requests_for(url)) == 1


def test_loading_is_retried_then_succeeds(server):
    url = server.url("loading")
    client = _client(url)
    assert _post(client)["data"]
    assert len(server.requests_for(url)) == 3  # two 503 + Retry-After, then the answer


@pytest.mark.parametrize("case", ["429", "401", "403", "503", "silent", "reset", "html502", "400"])
def test_failures_that_may_have_been_served_are_sent_once(server, case):
    """Never retried: auth failures count towards Xinference's IP ban; the others may have done work."""
    url = server.url(case)
    _run(_post, _client(url, max_retries="5"))
    assert len(server.requests_for(url)) == 1


def test_refused_connection_is_retried_within_the_budget_then_typed():
    url = f"http://127.0.0.1:{closed_port()}"
    client = _client(url, max_retries="2")
    with pytest.raises(InvokeConnectionError, match="could not connect"):
        _post(client)
    assert client.requests_sent == 3


def test_the_key_is_sent_only_to_the_configured_server(server):
    url = server.url("ok")
    _post(_client(url))
    (_, _, headers, _) = server.requests_for(url)[0]
    assert headers["authorization"] == f"Bearer {API_KEY}"


@pytest.mark.in_process  # no plugin process: run by make test-fast too
def test_stalled_stream_is_closed_not_left_open(server, monkeypatch):
    """After the read timeout the client closes the response: the server sees its socket closed at once,
    not when it gives up stalling (STALL_SECONDS) and not never (a response left open in the pool).

    urllib3 also drops the socket on a read timeout, so the server's view alone would pass without the
    plugin's close: the response object itself must be closed, by the plugin."""
    closed: list[str] = []
    original_close = requests.Response.close

    def recording_close(response):
        closed.append(response.url)
        original_close(response)

    monkeypatch.setattr(requests.Response, "close", recording_close)
    url = server.url("sse_stall")
    _, error, elapsed = _run(_stream, _client(url))
    assert any(u.startswith(url) for u in closed), "the plugin never closed the stalled response"
    assert isinstance(error, Conn) and elapsed < TIMEOUT + MARGIN, (error, elapsed)
    assert STALL_SECONDS - elapsed > 2.0  # so the wait below ends before the server would give up
    assert server.wait_client_closed(url, timeout=1.5), "the stalled response was left open"


@pytest.mark.in_process
def test_a_stream_abandoned_during_a_stall_is_closed(server):
    """Dify stops reading (the user cancels) while the server is silent: closing the stream closes the
    socket; the connection is not left open in the pool waiting for the rest of the answer."""
    url = server.url("sse_stall")
    body = {"model": "llm-1", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    with _client(url).stream_events("/v1/chat/completions", body, what="chat on 'llm-1'") as events:
        reader = iter(events)  # kept alive below: only the stream's own close() may end the response
        first = next(reader)
    assert first["choices"][0]["delta"]
    assert server.wait_client_closed(url, timeout=1.5), "the abandoned response was left open"
    reader.close()
