"""The transport under the client: keep-alive sessions, and the bodies going out and coming in.

Sessions: one per (server, key, TLS setting), shared by every invocation in the process.

Reusing the connection is what keeps a call at one round trip; the pool is bounded so a workspace
that cycles through many servers or keys cannot grow it without end.

The environment (HTTP(S)_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE …) is read once, when a session is made,
instead of on every request as requests does (proxy tables, bypass rules, ~/.netrc: ~70 µs, a third of
what a blocking chat costs the plugin). The daemon's environment is fixed for the life of the plugin
process; changing it means restarting the daemon, which starts a new process anyway.

Bodies: the JSON sent (never NaN), and a 2xx answer read with a size cap, as JSON only when it is
JSON. An endless or huge body (a misrouted download, a proxy page) must neither fill memory nor be
quoted whole in an error; every problem becomes a typed error with the API key redacted.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

import requests
from dify_plugin.errors.model import InvokeBadRequestError

from models._xinference.credentials import XinferenceCredentials
from models._xinference.errors import bad_response, read_limited, redact, transport_error
from models._xinference.keepalive import KeepAliveAdapter
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
    except ValueError:
        kind = "an HTML page (is a proxy in the way?)" if "html" in content_type else "not JSON"
        excerpt = body[:120].decode("utf-8", "replace")
        raise redact(bad_response(what, f"the body is {kind}: {excerpt!r}"), credentials.api_key) from None


def encode_json(body: dict[str, Any], what: str) -> bytes:
    try:
        return json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except ValueError as exc:  # NaN/Infinity: refuse before anything is sent
        raise InvokeBadRequestError(f"cannot send {what}: {exc}") from None
