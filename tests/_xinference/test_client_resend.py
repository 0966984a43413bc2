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
