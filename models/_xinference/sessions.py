"""Keep-alive HTTP sessions, one per (server, key, TLS setting), shared by every invocation in the process.

Reusing the connection is what keeps a call at one round trip; the pool is bounded so a workspace
that cycles through many servers or keys cannot grow it without end.

The environment (HTTP(S)_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE …) is read once, when a session is made,
instead of on every request as requests does (proxy tables, bypass rules, ~/.netrc: ~70 µs, a third of
what a blocking chat costs the plugin). The daemon's environment is fixed for the life of the plugin
process; changing it means restarting the daemon, which starts a new process anyway.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import requests
from requests.cookies import RequestsCookieJar
from requests.hooks import default_hooks
from requests.structures import CaseInsensitiveDict

from models._xinference.credentials import XinferenceCredentials
from models._xinference.keepalive import KeepAliveAdapter

_MAX_POOLED_SESSIONS = 64
_sessions: dict[tuple[str, str, bool], requests.Session] = {}
_sessions_lock = threading.Lock()
_MAX_PREPARED_URLS = 1024
_prepared_urls: dict[str, str] = {}


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


def _new_session(credentials: XinferenceCredentials) -> requests.Session:
    session = requests.Session()
    adapter = KeepAliveAdapter(pool_connections=4, pool_maxsize=128)  # urllib3 never retries (keepalive.py)
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


def send(session: requests.Session, method: str, url: str, **kwargs: Any) -> requests.Response:
    """`session.request`, minus the per-call work that gives the same answer every time for us.

    `Session.request` re-parses the URL, merges cookie jars, environment and settings on every call:
    ~0.15 ms, most of what a blocking chat against a fast server costs the plugin. Here the URL is
    parsed once, the session's own headers, proxies and CA are used as they are (resolved when it was
    made), and the request goes straight to `Session.send`. A multipart upload, or a session that
    holds cookies (a gateway set one), takes the full `Session.request` path, so nothing is dropped.
    """
    data = kwargs.pop("data", None)
    headers = kwargs.pop("headers", {})
    if "files" in kwargs or session.cookies or not isinstance(data, bytes | None):
        return session.request(method, url, data=data, headers=headers, **kwargs)
    prepared = requests.PreparedRequest()
    prepared.method = method
    prepared.url = _prepared_url(url)
    prepared.headers = CaseInsensitiveDict(session.headers)
    prepared.headers.update(headers)
    prepared.prepare_body(data, None)  # the body and its Content-Length
    prepared.hooks = default_hooks()
    prepared._cookies = RequestsCookieJar()  # an empty jar, as `prepare` leaves it
    return session.send(prepared, proxies=session.proxies, cert=session.cert, **kwargs)


def _prepared_url(url: str) -> str:
    """The URL as requests would send it (validated, IDNA host, quoted), parsed once."""
    prepared = _prepared_urls.get(url)
    if prepared is None:
        if len(_prepared_urls) >= _MAX_PREPARED_URLS:
            _prepared_urls.clear()
        probe = requests.PreparedRequest()
        probe.prepare_url(url, None)
        prepared = _prepared_urls[url] = probe.url
    return prepared
