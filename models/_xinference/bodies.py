"""Request and answer bodies: the JSON sent (never NaN), and a 2xx answer read with a size cap, as JSON only
when it is JSON.

An endless or huge body (a misrouted download, a proxy page) must neither fill memory nor be quoted
whole in an error; every problem becomes a typed error with the API key redacted.
"""

from __future__ import annotations

import json
from typing import Any

import requests
from dify_plugin.errors.model import InvokeBadRequestError

from models._xinference.credentials import XinferenceCredentials
from models._xinference.errors import bad_response, read_limited, redact, transport_error

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
