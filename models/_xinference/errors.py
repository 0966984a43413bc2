"""Typed errors for what the server answered, decided in one place.

The client turns HTTP statuses (and 2xx answers it cannot use) into Dify's `Invoke*Error` types here,
so the model classes, the streaming generators (whose errors the SDK does not translate) and the
validation paths all raise the same, already-typed errors; failures below HTTP are worded in
connection_faults.py. Messages carry the server's own words (its `detail`, or an excerpt of a
plain-text/HTML body) plus a hint an admin can act on — never the API key.
"""

from __future__ import annotations

import json
from typing import Any

import requests
from dify_plugin.errors.model import (
    CredentialsValidateFailedError,
    InvokeAuthorizationError,
    InvokeBadRequestError,
    InvokeConnectionError,
    InvokeError,
    InvokeRateLimitError,
    InvokeServerUnavailableError,
)

from models._xinference.hints import proxy_hint
from models._xinference.server_faults import input_fault, worker_down_hint

_EXCERPT = 480  # long server messages keep their head and tail: the reason is often at the end

_HINTS = {
    401: "check the API Key field: Xinference 3.0 and later turn authentication on by default, and the key "
    "must be a valid, enabled key (xf-…)",
    403: "the API key is valid but not allowed to use this model or route",
    404: "check the Model UID: is the model still running on this server?",
    429: "the server is rate-limiting; note that Xinference bans an IP for an hour after 10 failed keys in "
    "5 minutes",
    503: "the model is probably still loading; try again shortly",
}


class HTTPStatusError(InvokeError):
    """An Invoke error caused by an HTTP status: the status and the server's own words ride on it.

    Dify reports `error_type` as the class name and maps that name back to its own class, so every
    subclass takes the name of the Dify class it extends (`isinstance(err, InvokeBadRequestError)` holds
    as well). Mixed in first: `class X(HTTPStatusError, InvokeBadRequestError)`.
    """

    def __init__(self, message: str, *, status: int, detail: str) -> None:
        super().__init__(message)
        self.args = (message,)  # InvokeError leaves args empty; tracebacks read them
        self.status_code = status
        self.detail = detail

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        dify_classes = (c for c in cls.__mro__ if c.__module__ == InvokeError.__module__)
        cls.__name__ = next(dify_classes).__name__  # the first is the most specific: never InvokeError itself


class StatusAuthorizationError(HTTPStatusError, InvokeAuthorizationError):
    """401/403: reported to Dify as InvokeAuthorizationError."""


class StatusRateLimitError(HTTPStatusError, InvokeRateLimitError):
    """429: reported as InvokeRateLimitError."""


class StatusBadRequestError(HTTPStatusError, InvokeBadRequestError):
    """Other 4xx, and a 500 whose detail blames the input: reported as InvokeBadRequestError."""


class StatusServerUnavailableError(HTTPStatusError, InvokeServerUnavailableError):
    """5xx: reported as InvokeServerUnavailableError."""


class ModelNotRunningError(StatusBadRequestError):
    """The model UID is not running on the server (validation then lists the models that are)."""

    def __init__(self, message: str, *, status: int, detail: str, model_uid: str) -> None:
        super().__init__(message, status=status, detail=detail)
        self.model_uid = model_uid

    @classmethod
    def from_status_error(cls, err: HTTPStatusError, model_uid: str, server_url: str) -> ModelNotRunningError:
        """From the server's 400 (describe) or 404 to a description request for `model_uid`."""
        message = (
            f"No model with UID {model_uid!r} is running on {server_url}: launch it in Xinference, "
            "or correct the Model UID (see `xinference list`)"
        )
        return cls(message, status=err.status_code, detail=err.detail, model_uid=model_uid)


_STATUS_CLASSES: dict[type[InvokeError], type[HTTPStatusError]] = {
    InvokeAuthorizationError: StatusAuthorizationError,
    InvokeRateLimitError: StatusRateLimitError,
    InvokeBadRequestError: StatusBadRequestError,
    InvokeServerUnavailableError: StatusServerUnavailableError,
}


def error_class_for_status(status: int) -> type[InvokeError]:
    if status in (401, 403):
        return InvokeAuthorizationError
    if status == 429:
        return InvokeRateLimitError
    if 400 <= status < 500:
        return InvokeBadRequestError
    return InvokeServerUnavailableError


def detail_of(body: bytes, content_type: str) -> str:
    """The server's explanation: `detail` (string, or a 422 list) or a short excerpt of the body."""
    text = body[: 64 * 1024].decode("utf-8", errors="replace")
    if text.lstrip().startswith("{"):  # a JSON object, whatever the content type says
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, dict) and "detail" in data:
            return _format_detail(data["detail"])
        if isinstance(data, dict) and isinstance(data.get("error"), str | dict):
            return _format_detail(data["error"])
    if "html" in content_type or text.lstrip().lower().startswith(("<!doctype", "<html")):
        return "an HTML page (a proxy or gateway answered, not Xinference): " + squash(_strip_tags(text))
    return squash(text) or "(empty body)"


def _format_detail(detail: Any) -> str:
    if isinstance(detail, list):  # FastAPI 422: [{"loc": [...], "msg": "...", "type": "..."}]
        parts = []
        for item in detail[:5]:
            if isinstance(item, dict):
                loc = ".".join(str(p) for p in item.get("loc", []) if p != "body")
                msg = str(item.get("msg", ""))
                parts.append(f"{loc}: {msg}" if loc and msg else loc or msg)
            else:
                parts.append(str(item))
        return squash("; ".join(parts))
    if isinstance(detail, dict):
        return squash(str(detail.get("message") or json.dumps(detail)))
    return squash(str(detail))


def _strip_tags(text: str) -> str:
    out, inside = [], False
    for ch in text:
        if ch == "<":
            inside = True
        elif ch == ">":
            inside = False
            out.append(" ")
        elif not inside:
            out.append(ch)
    return "".join(out)


def squash(text: str) -> str:
    """One line, at most _EXCERPT characters: long server messages keep their head and tail."""
    text = " ".join(text.split())
    if len(text) <= _EXCERPT:
        return text
    head = _EXCERPT * 2 // 3
    return text[:head] + " … " + text[-(_EXCERPT - head - 3) :]


def status_error(status: int, reason: str, detail: str, what: str, *, note: str = "") -> HTTPStatusError:
    """The typed error for an HTTP error status; `what` names the request (e.g. 'chat on qwen3')."""
    fault = input_fault(status, detail)
    base = InvokeBadRequestError if fault else error_class_for_status(status)
    hint = fault or worker_down_hint(detail) or _HINTS.get(status)
    hint = hint or ("the server failed; see its log for details" if status >= 500 else "")
    status_line = f"{status} {reason}" if reason else str(status)  # some gateways send no reason phrase
    message = f"Xinference answered HTTP {status_line} to {what}: {detail}"
    if hint:
        message += f" — {hint}"
    message += note
    return _STATUS_CLASSES[base](message, status=status, detail=detail)


def response_error(response: requests.Response, what: str) -> HTTPStatusError:
    detail = detail_of(read_limited(response, 64 * 1024), response.headers.get("content-type", ""))
    # A proxy between the daemon and Xinference answers with its own 502/504 (often HTML) page.
    proxy_page = response.status_code in (502, 504) or detail.startswith("an HTML page")
    note = proxy_hint(response.url or "", proxy_page=proxy_page)
    return status_error(response.status_code, response.reason or "", detail, what, note=note)


def read_limited(response: requests.Response, limit: int) -> bytes:
    """At most `limit` bytes of the body: an error page may be endless, we only quote it."""
    data = bytearray()
    try:
        for chunk in response.iter_content(8192):
            data += chunk
            if len(data) >= limit:
                break
    except requests.RequestException:
        pass  # what arrived is enough to explain the error
    finally:
        response.close()
    return bytes(data[:limit])


def bad_response(what: str, problem: str) -> InvokeServerUnavailableError:
    """The server answered 2xx with something unusable (non-JSON, missing fields, wrong shape)."""
    return InvokeServerUnavailableError(f"Xinference sent an unusable answer to {what}: {problem}")


def redact(err: InvokeError, secret: str | None) -> InvokeError:
    """Take the API key out of a message that quotes the server (some proxies echo request headers)."""
    if secret and secret in str(err):
        err.description = str(err).replace(secret, "[API key]")
        err.args = (err.description,)
        if isinstance(err, HTTPStatusError):
            err.detail = err.detail.replace(secret, "[API key]")
    return err


def as_credentials_error(err: Exception) -> CredentialsValidateFailedError:
    """Validation must report CredentialsValidateFailedError; keep the typed error's message."""
    if isinstance(err, CredentialsValidateFailedError):
        return err
    return CredentialsValidateFailedError(str(err))


# The one table every model type shares (via the mixin). Our own code already raises typed
# `InvokeError`s, which pass through unchanged; this covers what escapes from libraries. A ValueError
# is the caller's (pydantic and the SDK reject bad parameters with it); a KeyError or TypeError is a
# bug of ours and stays unmapped (the SDK reports it as a plain InvokeError, not the user's bad request).
INVOKE_ERROR_MAPPING: dict[type[InvokeError], list[type[Exception]]] = {
    InvokeConnectionError: [requests.exceptions.ConnectionError, requests.exceptions.Timeout],
    InvokeServerUnavailableError: [requests.exceptions.RequestException],
    InvokeRateLimitError: [],
    InvokeAuthorizationError: [],
    InvokeBadRequestError: [CredentialsValidateFailedError, ValueError],
}
