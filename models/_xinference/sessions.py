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

import requests

from models._xinference.credentials import XinferenceCredentials

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


def _new_session(credentials: XinferenceCredentials) -> requests.Session:
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=128, max_retries=0)
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
