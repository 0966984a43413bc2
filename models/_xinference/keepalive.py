"""The one new retry: a request lost on a kept-alive connection the server had already closed.

Why it is safe. A pooled connection sits idle between calls; the server (uvicorn's keep-alive timeout), a
proxy or a load balancer may close it at any moment. urllib3 checks a connection before reusing it, but
the close can land just after that check, while our request is on the wire: the request then dies with a
reset or an empty read before the server wrote a single byte. The server was not processing it (it was
closing the connection, not reading from it), and the same request on a brand-new connection is the
request it never saw. Browsers and HTTP libraries resend in exactly this case, and only in it.

What stays unretried, because the server may have acted on it: a failure on a *fresh* connection (the
server accepted it and then dropped it: a crash, an OOM kill, an overloaded accept queue), any failure
after the status line arrived (the server started answering), a read timeout, and any stream. That is
decided here with facts from the connection itself, not from the error text:
- `reused`: the socket had already carried a complete answer before this request;
- `unanswered`: the failure came before `getresponse` returned, i.e. before the status line was read.

urllib3's own retries stay off (the adapter's `max_retries=0`, i.e. `Retry(0, read=False)`: it never
resends), so this is the only resend below the client's retry policy (retry.py), and it happens at most
once per call.
"""

from __future__ import annotations

import http.client
import threading
from typing import Any

import requests
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from models._xinference.connection_faults import causes

# the socket errors of a connection the peer closed or reset (RemoteDisconnected: closed, nothing sent)
_DROPPED = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError, http.client.RemoteDisconnected)
_STALE = "xinference_stale_keepalive"  # set on the socket error when both facts above hold
_fresh = threading.local()  # `only`: this thread's next request must open a new connection


class _TrackedConnection:
    """Counts the answers a socket delivered, and marks a failure of its reuse before any answer."""

    answers = 0
    _reused = False

    def request(self, *args: Any, **kwargs: Any) -> None:
        if getattr(_fresh, "only", False) and self.answers > 0:
            self.close()  # the resend never takes another idle connection that may be just as stale
        self._reused = self.sock is not None and self.answers > 0
        try:
            super().request(*args, **kwargs)  # type: ignore[misc]
        except _DROPPED as exc:
            setattr(exc, _STALE, self._reused)
            raise

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        try:
            response = super().getresponse(*args, **kwargs)  # type: ignore[misc]
        except _DROPPED as exc:
            setattr(exc, _STALE, self._reused)
            raise
        self.answers += 1
        return response

    def close(self) -> None:
        super().close()  # type: ignore[misc]
        self.answers = 0


class _HTTPConnection(_TrackedConnection, HTTPConnection):
    pass


class _HTTPSConnection(_TrackedConnection, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class KeepAliveAdapter(requests.adapters.HTTPAdapter):
    """requests' adapter with tracked connections (direct and through a proxy), urllib3 retries off."""

    def __init__(self, pool_connections: int, pool_maxsize: int) -> None:
        super().__init__(pool_connections=pool_connections, pool_maxsize=pool_maxsize, max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = _POOLS
        return manager


def lost_on_stale_connection(exc: BaseException) -> bool:
    """True when the request failed on a reused connection before any byte of an answer arrived."""
    return any(getattr(cause, _STALE, False) for cause in causes(exc))


def send_on_fresh_connection(send: Any, *args: Any, **kwargs: Any) -> requests.Response:
    """`send(*args, **kwargs)` with this thread's request forced onto a newly opened connection."""
    _fresh.only = True
    try:
        return send(*args, **kwargs)
    finally:
        _fresh.only = False


def send_as_is(send: Any, *args: Any, **kwargs: Any) -> requests.Response:
    return send(*args, **kwargs)
