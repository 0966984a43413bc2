"""The transport under the client: keep-alive sessions, the connections under them, the bodies.

Sessions: one per (server, key, TLS setting), shared by every invocation in the process. Reusing the
connection keeps a call at one round trip; the pool is bounded so a workspace that cycles through many
servers or keys cannot grow it without end. The environment (HTTP(S)_PROXY, NO_PROXY,
REQUESTS_CA_BUNDLE …) is read once, when a session is made, not on every request as requests does
(~70 µs, a third of what a blocking chat costs the plugin); the daemon's environment is fixed for the
life of the plugin process.

Connections: the one new retry, a request lost on a kept-alive connection the server had already
closed. The server (uvicorn's keep-alive timeout), a proxy or a load balancer may close an idle pooled
connection just after urllib3 checked it, while our request is on the wire: it then dies with a reset
or an empty read before the server wrote a byte. The server was closing the connection, not reading
from it, so the same request on a brand-new connection is one it never saw (browsers and HTTP
libraries resend in exactly this case). Never resent, because the server may have acted: a failure on
a *fresh* connection (accepted, then dropped: a crash, an OOM kill, a full accept queue), anything
after the status line, a read timeout, any stream. The facts come from the connection, not the error
text: `reused` (the socket already carried a complete answer) and `unanswered` (the failure came
before `getresponse` returned). urllib3's own retries stay off (`max_retries=0`, i.e.
`Retry(0, read=False)`), so this is the only resend below retry.py, at most once per call.

Bodies: the JSON sent (never NaN), and a 2xx answer read with a size cap, as JSON only when it is
JSON. An endless or huge body (a misrouted download, a proxy page) must neither fill memory nor be
quoted whole in an error; every problem becomes a typed error with the API key redacted.
"""

from __future__ import annotations

import http.client
import json
import os
import threading
from typing import Any

import requests
from dify_plugin.errors.model import InvokeBadRequestError
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from models._xinference.connection_faults import causes, transport_error
from models._xinference.credentials import XinferenceCredentials
from models._xinference.errors import bad_response, read_limited, redact
from models._xinference.process_state import on_reset

_MAX_POOLED_SESSIONS = 64
_sessions: dict[tuple[str, str, bool], requests.Session] = {}
_sessions_lock = threading.Lock()


def pooled_session(credentials: XinferenceCredentials) -> requests.Session:
    """One keep-alive session per (server, key, TLS setting), shared by every invocation."""
    key = (credentials.server_url, credentials.key_fingerprint, credentials.tls_verify)
    with _sessions_lock:
        session = _sessions.get(key)
        if session is None:
            session = _new_session(credentials)
            if len(_sessions) >= _MAX_POOLED_SESSIONS:
                _sessions.pop(next(iter(_sessions))).close()
            _sessions[key] = session
        return session


def _forget_sessions() -> None:
    with _sessions_lock:
        for session in _sessions.values():
            session.close()
        _sessions.clear()


on_reset(_forget_sessions)


def _new_session(credentials: XinferenceCredentials) -> requests.Session:
    session = requests.Session()
    adapter = KeepAliveAdapter(pool_connections=4, pool_maxsize=128)  # urllib3 never retries (below)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    # Resolved here, once: the proxies requests would pick for this server (NO_PROXY honoured) and the
    # CA bundle it would use. trust_env=False also keeps a ~/.netrc in the daemon's container from
    # replacing the API key's Authorization header with its own login.
    session.trust_env = False
    session.proxies = requests.utils.get_environ_proxies(credentials.server_url)
    session.verify = _verify_setting(credentials.tls_verify)
    return session


def _verify_setting(tls_verify: bool) -> bool | str:
    """False is the admin's explicit choice; on, a CA bundle named in the environment is honoured."""
    if not tls_verify:
        return False
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True


# ---- connections: the one safe resend ------------------------------------------------------------

# the socket errors of a connection the peer closed or reset (RemoteDisconnected: closed, nothing sent)
_DROPPED = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError, http.client.RemoteDisconnected)
_STALE = "xinference_stale_keepalive"  # set on the socket error when both facts (reused, unanswered) hold
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


# ---- bodies ------------------------------------------------------------------------------

MAX_JSON_BYTES = 512 * 1024 * 1024  # 2048 texts x 4096 dims as JSON text is ~170 MB


def read_body(response: requests.Response, what: str, server_url: str) -> bytes:
    try:
        chunks, size = [], 0
        for chunk in response.iter_content(1024 * 1024):
            size += len(chunk)
            if size > MAX_JSON_BYTES:
                raise bad_response(what, f"the answer is larger than {MAX_JSON_BYTES // 2**20} MiB")
            chunks.append(chunk)
        return b"".join(chunks)
    except requests.RequestException as exc:
        raise transport_error(exc, server_url, what) from None
    finally:
        response.close()


def read_json(response: requests.Response, what: str, credentials: XinferenceCredentials) -> Any:
    content_type = response.headers.get("content-type", "")
    if content_type and "json" not in content_type.lower():
        # Xinference labels every JSON answer; an HTML or text page (a proxy, a misrouted
        # download) may be endless, so quote its start instead of reading it all.
        excerpt = read_limited(response, 120).decode("utf-8", "replace")
        kind = "an HTML page (is a proxy in the way?)" if "html" in content_type else content_type
        raise redact(bad_response(what, f"expected JSON, got {kind}: {excerpt!r}"), credentials.api_key)
    body = read_body(response, what, credentials.server_url)
    try:
        return json.loads(body)
    except ValueError:  # labelled JSON (an HTML page was refused above) or not labelled at all
        excerpt = body[:120].decode("utf-8", "replace")
        raise redact(bad_response(what, f"the body is not JSON: {excerpt!r}"), credentials.api_key) from None


def encode_json(body: dict[str, Any], what: str) -> bytes:
    try:
        return json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except ValueError as exc:  # NaN/Infinity: refuse before anything is sent
        raise InvokeBadRequestError(f"cannot send {what}: {exc}") from None
