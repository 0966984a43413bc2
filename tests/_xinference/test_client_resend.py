"""A request that fails on a kept-alive connection the server had already closed (before any answer)
is sent again once, on a newly opened connection; a second such failure is an error, and a first
attempt never forces a new connection (models/_xinference/client.py `_send`, sessions.py)."""

import pytest
import requests
import responses
from dify_plugin.errors.model import InvokeConnectionError

from models._xinference import sessions
from tests._xinference.client_support import client
from tests.helpers import SERVER


def _stale() -> requests.exceptions.ConnectionError:
    """What the tracked connection raises when its reuse fails before an answer (sessions.py)."""
    dropped = ConnectionResetError(104, "Connection reset by peer")
    setattr(dropped, sessions._STALE, True)
    return requests.exceptions.ConnectionError(dropped)


def _sender(monkeypatch, c, outcomes):
    """Replace the session's request with one answering `outcomes` in turn; returns, per attempt,
    whether it was forced onto a new connection."""
    fresh: list[bool] = []
    real = c.session.request

    def request(*args, **kwargs):
        fresh.append(getattr(sessions._fresh, "only", False))
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return real(*args, **kwargs)

    monkeypatch.setattr(c.session, "request", request)
    return fresh


def test_a_request_lost_on_a_stale_connection_is_sent_again_on_a_new_one(monkeypatch):
    c = client(max_retries="0")
    with responses.RequestsMock() as mock:
        mock.get(SERVER + "/v1/models", json={"data": []})
        fresh = _sender(monkeypatch, c, [_stale(), "answer"])
        assert c.get_json("/v1/models") == {"data": []}
    assert fresh == [False, True] and c.requests_sent == 2


def test_it_is_sent_again_only_once(monkeypatch):
    c = client(max_retries="0")
    fresh = _sender(monkeypatch, c, [_stale(), _stale(), "answer"])
    with pytest.raises(InvokeConnectionError, match="reset"):
        c.get_json("/v1/models")
    assert fresh == [False, True]


def test_only_the_resend_is_forced_onto_a_new_connection_not_the_retries_after_it(monkeypatch):
    """After the resend, an ordinary retry (a 503 with Retry-After) takes a pooled connection again."""
    c = client(max_retries="2")
    with responses.RequestsMock() as mock:
        mock.get(SERVER + "/v1/models", status=503, json={"detail": "loading"}, headers={"Retry-After": "1"})
        mock.get(SERVER + "/v1/models", json={"data": []})
        fresh = _sender(monkeypatch, c, [_stale(), "503", "answer"])
        assert c.get_json("/v1/models") == {"data": []}
    assert fresh == [False, True, False] and c.requests_sent == 3


def test_a_retried_status_is_logged_with_the_request_and_the_status(caplog):
    c = client(max_retries="1")
    with responses.RequestsMock() as mock, caplog.at_level("INFO", logger="models._xinference.client"):
        mock.get(SERVER + "/v1/models", status=503, json={"detail": "loading"}, headers={"Retry-After": "1"})
        mock.get(SERVER + "/v1/models", json={"data": []})
        c.get_json("/v1/models")
    assert "GET /v1/models: HTTP 503, retrying" in [r.getMessage() for r in caplog.records]


def test_the_resend_carries_the_same_body_headers_and_timeout(monkeypatch):
    c = client(max_retries="0", invoke_timeout="42", api_key="sk-resend")
    with responses.RequestsMock() as mock:
        mock.post(SERVER + "/v1/embeddings", json={"data": []})
        _sender(monkeypatch, c, [_stale(), "answer"])
        c.post_json("/v1/embeddings", {"input": ["x"]})
        (call,) = mock.calls
    assert call.request.body == b'{"input": ["x"]}' and call.request.req_kwargs["timeout"][1] == 42.0
    assert call.request.headers["Authorization"] == "Bearer sk-resend"
