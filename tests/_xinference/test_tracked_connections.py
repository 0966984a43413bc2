"""The facts the one safe resend rests on (sessions.py `_TrackedConnection`, `KeepAliveAdapter`).

A failure is marked stale only when the connection was *reused* (an open socket that already delivered
an answer) and nothing of an answer had come; the resend closes an idle connection rather than take it;
both schemes and proxied connections are tracked; the pool keeps as many idle connections as there were
concurrent calls. The connection rules are checked on a stand-in for urllib3's connection, the rest
against real loopback servers (tests/reliability/keepalive_server.py)."""

from __future__ import annotations

import http.client
import threading

import pytest

from models._xinference import sessions
from models._xinference.credentials import parse_credentials
from tests._xinference.client_support import clear_proxy_settings, client
from tests.reliability.keepalive_server import ANSWER, KeepAliveServer

EMBED = {"model": "m", "input": ["x"]}


class _Socketless:
    """Stands in for urllib3's HTTPConnection below the tracking: `fail` is raised by the next request
    or status-line read; `closed` counts closes."""

    def __init__(self, *, sock: object | None, answers: int, fail: BaseException | None = None) -> None:
        self.sock, self.answers, self.fail, self.closed = sock, answers, fail, 0

    def request(self, *args, **kwargs) -> None:
        if isinstance(self.fail, BrokenPipeError):
            raise self.fail

    def getresponse(self, *args, **kwargs) -> str:
        if isinstance(self.fail, http.client.RemoteDisconnected):
            raise self.fail
        return "response"

    def close(self) -> None:
        self.sock, self.closed = None, self.closed + 1


class _Connection(sessions._TrackedConnection, _Socketless):
    pass


def _stale_mark(connection: _Connection) -> bool:
    """Send one request on `connection`; the stale mark its failure carries."""
    with pytest.raises((BrokenPipeError, http.client.RemoteDisconnected)) as info:
        connection.request("POST", "/v1/embeddings")
        connection.getresponse()
    return getattr(info.value, sessions._STALE)


@pytest.mark.parametrize(
    "fault", [BrokenPipeError(32, "Broken pipe"), http.client.RemoteDisconnected("closed")]
)
@pytest.mark.parametrize(
    ("sock", "answers", "stale"),
    [(object(), 1, True), (object(), 0, False), (None, 1, False), (None, 0, False)],
    ids=["reused", "open, no answer yet", "socket gone", "new"],
)
def test_only_a_failure_on_a_reused_connection_before_its_answer_is_marked_stale(fault, sock, answers, stale):
    assert _stale_mark(_Connection(sock=sock, answers=answers, fail=fault)) is stale


def test_the_connection_counts_the_answers_it_delivered_and_forgets_them_when_closed():
    connection = _Connection(sock=object(), answers=0)
    for _ in range(2):
        connection.request("GET", "/v1/models")
        connection.getresponse()
    assert connection.answers == 2
    connection.close()
    assert connection.answers == 0 and connection.closed == 1


@pytest.mark.parametrize(("answers", "closed"), [(0, 0), (1, 1), (3, 1)])
def test_the_resend_closes_a_connection_that_already_answered_instead_of_reusing_it(answers, closed):
    connection = _Connection(sock=object(), answers=answers)
    sessions.send_on_fresh_connection(connection.request, "POST", "/v1/embeddings")
    assert connection.closed == closed
    connection.answers = answers
    connection.request("POST", "/v1/embeddings")  # outside a resend: never closed first
    assert connection.closed == closed


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_both_schemes_go_through_the_tracking_adapter(scheme):
    credentials = parse_credentials({"server_url": "http://127.0.0.1:1", "model_uid": "m"})
    adapter = sessions.pooled_session(credentials).get_adapter(f"{scheme}://xinference.lan:9997/v1/models")
    assert isinstance(adapter, sessions.KeepAliveAdapter)


def test_a_request_lost_on_an_idle_closed_connection_through_a_proxy_is_resent_too(monkeypatch):
    """The proxy closed the kept-alive connection to the plugin; the target host is never resolved."""
    clear_proxy_settings(monkeypatch)
    with KeepAliveServer(on_reuse="idle_close") as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        c = client(server_url="http://xinference.lan:9997", max_retries="0")
        assert c.post_json("/v1/embeddings", EMBED) == ANSWER
        assert c.post_json("/v1/embeddings", EMBED) == ANSWER
    assert proxy.dropped == 1 and proxy.handled == 2 and c.requests_sent == 3


def test_the_pool_keeps_a_connection_for_each_of_many_concurrent_calls(caplog):
    """24 calls at once, then 24 again: the second round reuses the first round's connections (urllib3
    would otherwise log "Connection pool is full, discarding connection" and open new ones)."""
    with KeepAliveServer() as server, caplog.at_level("WARNING", logger="urllib3.connectionpool"):
        server.delay = 0.3  # every call of a round is in flight at once
        c = client(server_url=server.url)
        for _ in range(2):
            embed = ("/v1/embeddings", EMBED)
            threads = [threading.Thread(target=c.post_json, args=embed) for _ in range(24)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    assert server.handled == 48 and server.connections == 24
    assert not [r for r in caplog.records if "pool is full" in r.getMessage()]
