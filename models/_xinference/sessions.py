"""Keep-alive HTTP sessions, one per (server, key, TLS setting), shared by every invocation in the process.

Reusing the connection is what keeps a call at one round trip; the pool is bounded so a workspace
that cycles through many servers or keys cannot grow it without end.
"""

from __future__ import annotations

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
            session = requests.Session()
            adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=128, max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            # True keeps REQUESTS_CA_BUNDLE working; False is the admin's explicit choice.
            session.verify = credentials.tls_verify
            if len(_sessions) >= _MAX_POOLED_SESSIONS:
                _sessions.pop(next(iter(_sessions))).close()
            _sessions[key] = session
        return session
