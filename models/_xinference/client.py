"""The only place that speaks HTTP to Xinference; every model type goes through `XinferenceClient`.

It owns: the pooled sessions and the one safe resend (sessions.py), the auth header, timeouts, the
retry policy (retry.py), typed errors (errors.py; below HTTP: connection_faults.py), streams (stream.py)
and the description cache (model_info.py). Model classes build bodies and read results, never requests.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import quote

import requests
from dify_plugin.errors.model import InvokeAuthorizationError, InvokeBadRequestError, InvokeError

from models._xinference import relaunch, retry, server_faults, sessions
from models._xinference.connection_faults import transport_error
from models._xinference.credentials import XinferenceCredentials
from models._xinference.errors import (
    HTTPStatusError,
    ModelNotRunningError,
    bad_response,
    read_limited,
    redact,
    response_error,
)
from models._xinference.model_info import DESCRIPTIONS, CacheKey, ModelDescription
from models._xinference.request_metadata import attribution_headers
from models._xinference.stream import ByteStream, EventStream

logger = logging.getLogger(__name__)

SCHEMA_TIMEOUT = 5.0  # seconds a schema request may wait for the model description
Form = tuple[dict[str, str], dict[str, tuple]]  # multipart: (fields, files)


class XinferenceClient:
    def __init__(self, credentials: XinferenceCredentials) -> None:
        self.credentials = credentials
        self.session = sessions.pooled_session(credentials)  # shared by every client of one server and key
        self.requests_sent = 0  # attempts on the wire, retries included (tests and benchmarks read it)

    @property
    def cache_key(self) -> CacheKey:
        c = self.credentials
        return (c.server_url, c.model_uid, c.key_fingerprint)

    # ---- model description -------------------------------------------------------------

    def describe(self, *, fresh: bool = False) -> ModelDescription:
        """The running model's description, from the cache unless `fresh` (validation wants the truth)."""
        if fresh:
            DESCRIPTIONS.invalidate(self.cache_key)
        return DESCRIPTIONS.get(self.cache_key, self._fetch_description)

    def quick(self, timeout: float) -> XinferenceClient:
        """The same server, key and (pooled) session, with no retries and a shorter timeout: for look-ups
        that must not hold up what the admin is waiting for (schemas, the list of running models)."""
        update = {"max_retries": 0, "timeout": timeout}
        return XinferenceClient(self.credentials.model_copy(update=update))

    def cached_description(self) -> ModelDescription | None:
        return DESCRIPTIONS.peek(self.cache_key)

    def describe_for_schema(self, *, raise_authorization: bool = False) -> ModelDescription | None:
        """The description for a schema request: cached, else one quick try (no retries, at most
        SCHEMA_TIMEOUT s); None while the server is down, so Dify's model list neither hangs nor breaks.
        `raise_authorization`: an invocation raises a rejected key instead of sending its request
        with the same key (Xinference counts every 401 towards banning the client's IP)."""
        cached = self.cached_description()
        if cached is not None:
            return cached
        c = self.credentials
        try:
            return self.quick(min(c.timeout, SCHEMA_TIMEOUT)).describe()
        except InvokeError as err:
            rejected = isinstance(err, InvokeAuthorizationError)
            if rejected and raise_authorization:
                raise
            reason = "the API key was rejected" if rejected else err
            logger.info("schema of %r without the server's description: %s", c.model_uid, reason)
            return None

    def _fetch_description(self) -> ModelDescription:
        uid = self.credentials.model_uid
        what = f"the description of model {uid!r}"
        try:
            data = self.get_json(f"/v1/models/{quote(uid, safe='')}", what=what)
        except HTTPStatusError as err:
            # Xinference answers 400 (describe) or 404 for a uid that is not running.
            if isinstance(err, InvokeBadRequestError) and "not found" in err.detail.lower():
                raise ModelNotRunningError.from_status_error(err, uid, self.credentials.server_url) from None
            raise
        if not isinstance(data, dict) or not data.get("model_type"):
            raise bad_response(what, "no model_type in the description")
        return ModelDescription.from_json(uid, data)

    def list_models(self) -> list[ModelDescription]:
        what = "the list of running models"
        models = ModelDescription.list_from_json(self.get_json("/v1/models", what=what))
        if models is None:
            raise bad_response(what, "expected a JSON object")
        return models

    # ---- plain requests ----------------------------------------------------------------

    def get_json(self, path: str, *, what: str | None = None) -> Any:
        what = what or f"GET {path}"
        return sessions.read_json(self._send("GET", path, what=what), what, self.credentials)

    def post_json(self, path: str, body: dict[str, Any], *, what: str | None = None) -> Any:
        what = what or f"POST {path}"
        return sessions.read_json(self._send("POST", path, body=body, what=what), what, self.credentials)

    def post_multipart(self, path: str, fields: dict[str, str], files: dict[str, tuple], *, what: str) -> Any:
        response = self._send("POST", path, form=(fields, files), what=what)
        return sessions.read_json(response, what, self.credentials)

    def post_for_bytes(self, path: str, body: dict[str, Any], *, what: str) -> bytes:
        response = self._send("POST", path, body=body, what=what)
        return sessions.read_body(response, what, self.credentials.server_url)

    # ---- streams -----------------------------------------------------------------------

    def stream_events(
        self, path: str, body: dict[str, Any], *, what: str, require_done: bool = True
    ) -> EventStream:
        response = self._send("POST", path, body=body, what=what)
        content_type = response.headers.get("content-type", "")
        if "event-stream" not in content_type:
            detail = read_limited(response, 300).decode("utf-8", "replace")
            problem = f"expected an event stream, got {content_type or 'no content type'}: {detail!r}"
            raise redact(bad_response(what, problem), self.credentials.api_key)
        return EventStream(
            response,
            self.credentials.server_url,
            what,
            require_done=require_done,
            secret=self.credentials.api_key,
        )

    def stream_bytes(self, path: str, body: dict[str, Any], *, what: str) -> ByteStream:
        response = self._send("POST", path, body=body, what=what)
        return ByteStream(response, self.credentials.server_url, what)

    # ---- transport ---------------------------------------------------------------------

    def _send(
        self,
        method: str,
        path: str,
        *,
        what: str,
        body: dict[str, Any] | None = None,
        form: Form | None = None,
    ) -> requests.Response:
        """The 2xx response, unread: callers read the body themselves, with a size cap (sessions.py),
        an excerpt (`read_limited`) or as a stream; `requests` would read a non-streamed body whole."""
        c = self.credentials
        kwargs = self._request_options(what, body, form)
        budget = retry.RetryBudget.start(c.max_retries, c.timeout)
        resend_fresh, resent = False, False  # once, on a new connection: sessions.py says why it is safe
        while True:
            started = time.perf_counter()
            try:
                self.requests_sent += 1
                sender = sessions.send_on_fresh_connection if resend_fresh else sessions.send_as_is
                resend_fresh = False
                response = sender(self.session.request, method, c.server_url + path, **kwargs)
            except requests.RequestException as exc:
                if not resent and sessions.lost_on_stale_connection(exc):
                    logger.info("%s %s: kept-alive connection closed by the server, resending", method, path)
                    resend_fresh = resent = True
                    continue
                if retry.is_unsent_connection_failure(exc) and budget.wait_before_retry(
                    retry.backoff_delay(budget.attempt)
                ):
                    logger.info("retrying %s %s after a connection failure", method, path)
                    continue
                raise transport_error(exc, c.server_url, what) from None
            logger.debug(
                "%s %s -> %s in %.3fs", method, path, response.status_code, time.perf_counter() - started
            )
            if response.status_code < 300:
                return response
            failure = self._failure_unless_retried(response, budget, what)
            if failure is None:
                logger.info("%s %s: HTTP %s, retrying", method, path, response.status_code)
                continue
            if method == "POST":  # an inference request: was the model relaunched as another?
                failure = relaunch.explain_failure(self, failure)
            raise redact(failure, c.api_key)

    def _request_options(self, what: str, body: dict[str, Any] | None, form: Form | None) -> dict[str, Any]:
        c = self.credentials
        kwargs: dict[str, Any] = {
            "headers": self._headers(json_body=body is not None),
            "timeout": (c.connect_timeout, c.timeout),
            "allow_redirects": False,  # a redirect could carry the key to another host
            "stream": True,  # see `_send`: an endless body must not be read into memory
            # Explicit, so REQUESTS_CA_BUNDLE cannot turn verification back on when it is switched off
            # (requests lets it override the session's verify=False); when on, the session holds it.
            "verify": self.session.verify if c.tls_verify else False,
        }
        if body is not None:
            kwargs["data"] = sessions.encode_json(body, what)
        if form is not None:
            kwargs["data"], kwargs["files"] = form
        return kwargs

    def _failure_unless_retried(
        self, response: requests.Response, budget: retry.RetryBudget, what: str
    ) -> Exception | None:
        """None once the wait before a retry is over (see retry.py), else the typed error."""
        delay = retry.retry_after_delay(response)
        if delay is not None and budget.wait_before_retry(delay):
            response.close()
            return None
        failure = self._status_failure(response, what)
        detail = failure.detail if isinstance(failure, HTTPStatusError) else ""
        if server_faults.worker_is_down(response.status_code, detail) and budget.wait_before_retry(
            retry.backoff_delay(budget.attempt)
        ):
            return None
        return failure

    def _status_failure(self, response: requests.Response, what: str) -> Exception:
        if 300 <= response.status_code < 400:
            location = response.headers.get("location", "?")
            response.close()
            return InvokeBadRequestError(
                f"Xinference answered {what} with a redirect (HTTP {response.status_code}) to {location}. "
                "The plugin does not follow redirects, so that the API key is never sent elsewhere: "
                "set Server URL to the address the server really answers on."
            )
        err = response_error(response, what)
        if err.status_code == 404 or server_faults.model_missing(err.status_code, err.detail):
            DESCRIPTIONS.invalidate(self.cache_key)  # the model may have been terminated
        return err

    def _headers(self, *, json_body: bool) -> dict[str, str]:
        headers = {"Accept": "application/json, text/event-stream, */*"}
        if json_body:
            headers["Content-Type"] = "application/json"
        if self.credentials.api_key:
            headers["Authorization"] = f"Bearer {self.credentials.api_key}"
        if self.credentials.request_metadata:
            headers.update(attribution_headers())
        return headers
