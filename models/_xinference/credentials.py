"""The credential form Dify stores for one model, parsed once into a typed, immutable object.

Dify hands every invocation the raw dict of declared fields it stored: strings (a select's value, or the
field's YAML default when the admin left it empty) and True for a switch turned on; Dify stores only
truthy values, so a switch turned off is a missing field. Hence every on/off choice whose default is on
(tls_verify, truncate_long_texts) is a select with the strings "true" / "false", and a missing field
always means the YAML default. Everything downstream uses `XinferenceCredentials`; nothing reads the
raw dict again or writes to it (Dify would throw such writes away anyway).
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Mapping
from typing import Literal
from urllib.parse import urlsplit

from dify_plugin.errors.model import CredentialsValidateFailedError
from pydantic import BaseModel, ConfigDict

from models._xinference.process_state import on_reset

Override = Literal["auto", "supported", "unsupported"]

_UID_FORBIDDEN = re.compile(r"[/?#\s]")
_OVERRIDES = ("auto", "supported", "unsupported")
_AUDIO_FORMATS = ("mp3", "wav", "flac", "ogg", "aac", "opus", "pcm")
_ENABLED = ("enabled", "disabled")  # enable_request_metadata, as the official Dify plugins spell it
_MAX_TEXT = 2048  # no legitimate field value is longer; longer input is pasted garbage


class XinferenceCredentials(BaseModel):
    """One model's connection settings and admin overrides, validated."""

    model_config = ConfigDict(frozen=True)

    server_url: str
    model_uid: str
    api_key: str | None = None
    timeout: float = 60.0
    max_retries: int = 2
    tls_verify: bool = True
    request_metadata: bool = False  # X-Dify-App-Id / X-Dify-Source on every request (request_metadata.py)
    # LLM overrides ("auto" = trust the server's model description)
    context_size: int | None = None
    function_calling: Override = "auto"
    vision: Override = "auto"
    thinking: Override = "auto"
    structured_output: Override = "auto"
    # files Dify drops from a prompt unless the schema declares them (auto: the description's abilities)
    video: Override = "auto"
    audio: Override = "auto"
    document: Override = "auto"
    # text embedding
    max_chunks: int = 32
    query_prefix: str = ""
    document_prefix: str = ""
    query_task: str = ""
    document_task: str = ""
    truncate_long_texts: bool = True
    # images in knowledge bases (Dify >= 1.11): "auto" = the description's embed_vision / rerank_vision
    embedding_vision: Override = "auto"
    rerank_vision: Override = "auto"
    # rerank
    rerank_instruction: str = ""
    rerank_batch_size: int = 256
    # speech-to-text
    language: str = ""
    # text-to-speech
    audio_format: str = "mp3"
    speed: float = 1.0
    default_voice: str = ""
    tts_streaming: bool = False

    def __repr__(self) -> str:  # never show the key, even in a debugger or a traceback
        return f"XinferenceCredentials(server_url={self.server_url!r}, model_uid={self.model_uid!r})"

    __str__ = __repr__

    @property
    def key_fingerprint(self) -> str:
        """A stable, non-reversible id of the API key, for cache and pool keys."""
        if not self.api_key:
            return ""
        return hashlib.sha256(self.api_key.encode()).hexdigest()[:16]

    @property
    def connect_timeout(self) -> float:
        # An unreachable host should fail fast even when generation may take minutes.
        return min(10.0, self.timeout)


def _fail(field: str, problem: str) -> CredentialsValidateFailedError:
    return CredentialsValidateFailedError(f"{field}: {problem}")


def _text(raw: Mapping, field: str) -> str:
    value = raw.get(field)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _fail(field, f"expected text, got {type(value).__name__}")
    value = value.strip()
    if len(value) > _MAX_TEXT:
        raise _fail(field, f"is {len(value)} characters long; at most {_MAX_TEXT} are accepted")
    if "\n" in value or "\r" in value or "\x00" in value:
        raise _fail(field, "must be a single line")
    return value


def parse_server_url(value: str) -> str:
    """Normalise the URL an admin pasted: strip, drop trailing '/' and a pasted '/v1'."""
    field = "server_url (Server URL)"
    if not value:
        raise _fail(field, "is required, e.g. http://xinference.local:9997")
    url = value.rstrip("/")
    if url.lower().endswith("/v1"):
        url = url[:-3].rstrip("/")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError on a non-numeric or out-of-range port
    except ValueError as exc:
        raise _fail(field, f"is not a valid URL ({exc}); e.g. http://xinference.local:9997") from None
    if parts.scheme not in ("http", "https"):
        raise _fail(field, "must start with http:// or https://, e.g. http://xinference.local:9997")
    if not parts.hostname:
        raise _fail(field, "has no host name; expected e.g. http://xinference.local:9997")
    if parts.username or parts.password:
        raise _fail(field, "must not contain a user name or password; put the key in the API Key field")
    if parts.query or parts.fragment:
        raise _fail(field, "must not contain '?' or '#'; give only the server address")
    del port
    return url


def _model_uid(raw: Mapping) -> str:
    field = "model_uid (Model UID)"
    uid = _text(raw, "model_uid")
    if not uid:
        raise _fail(field, "is required: the UID of a running model, as shown by `xinference list`")
    if _UID_FORBIDDEN.search(uid):
        raise _fail(field, f"{uid!r} may not contain '/', '?', '#' or spaces")
    return uid


def _number(raw: Mapping, field: str, default: float, low: float, high: float, *, integer: bool) -> float:
    value = raw.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    kind = "a whole number" if integer else "a number"
    if isinstance(value, bool):
        raise _fail(field, f"expected {kind} between {low:g} and {high:g}")
    try:
        number = int(str(value).strip()) if integer else float(str(value).strip())
    except ValueError:
        raise _fail(field, f"{str(value)[:40]!r} is not {kind}; expected {low:g}–{high:g}") from None
    if not (low <= number <= high):  # also rejects NaN
        raise _fail(field, f"{number:g} is out of range; expected {low:g}–{high:g}")
    return number


def _switch(raw: Mapping, field: str, default: bool) -> bool:
    """A switch (True, or its default string) or a "true"/"false" select, or a True stored while it
    was a switch: every spelling keeps its meaning."""
    value = raw.get(field)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise _fail(field, "expected true or false")


def _choice(raw: Mapping, field: str, choices: tuple[str, ...], default: str) -> str:
    value = _text(raw, field).lower() or default
    if value not in choices:
        raise _fail(field, f"{value[:40]!r} is not one of {', '.join(choices)}")
    return value


def _context_size(raw: Mapping) -> int | None:
    value = _text(raw, "context_size")
    if value.lower() in ("", "auto"):
        return None
    return int(_number({"context_size": value}, "context_size", 0, 16, 10_000_000, integer=True))


def parse_credentials(raw: Mapping | None) -> XinferenceCredentials:
    """Parse Dify's credential dict; every bad value raises CredentialsValidateFailedError naming it.
    The same few dicts arrive with every call, so results are memoised (errors are not)."""
    if isinstance(raw, Mapping):
        try:
            # the value's type is part of the key: True == 1 for hashing, but only True is a switch value
            return _parse_memo(frozenset((k, type(v), v) for k, v in raw.items()))
        except TypeError:  # an unhashable value (not something Dify sends): parse without the memo
            pass
    return _parse(raw)


@functools.lru_cache(maxsize=256)
def _parse_memo(items: frozenset) -> XinferenceCredentials:
    return _parse({k: v for k, _, v in items})


on_reset(_parse_memo.cache_clear)


def _parse(raw: Mapping | None) -> XinferenceCredentials:
    if not isinstance(raw, Mapping):
        raise CredentialsValidateFailedError("credentials are missing: fill in Server URL and Model UID")
    return XinferenceCredentials(
        server_url=parse_server_url(_text(raw, "server_url")),
        model_uid=_model_uid(raw),
        api_key=_text(raw, "api_key") or None,
        timeout=_number(raw, "invoke_timeout", 60.0, 1, 3600, integer=False),
        max_retries=int(_number(raw, "max_retries", 2, 0, 10, integer=True)),
        tls_verify=_switch(raw, "tls_verify", True),
        request_metadata=_choice(raw, "enable_request_metadata", _ENABLED, "disabled") == "enabled",
        context_size=_context_size(raw),
        function_calling=_choice(raw, "function_calling", _OVERRIDES, "auto"),
        vision=_choice(raw, "vision", _OVERRIDES, "auto"),
        thinking=_choice(raw, "thinking", _OVERRIDES, "auto"),
        structured_output=_choice(raw, "structured_output", _OVERRIDES, "auto"),
        video=_choice(raw, "video", _OVERRIDES, "auto"),
        audio=_choice(raw, "audio", _OVERRIDES, "auto"),
        document=_choice(raw, "document", _OVERRIDES, "auto"),
        max_chunks=int(_number(raw, "max_chunks", 32, 1, 2048, integer=True)),
        query_prefix=_raw_text(raw, "query_prefix"),
        document_prefix=_raw_text(raw, "document_prefix"),
        query_task=_text(raw, "query_task"),
        document_task=_text(raw, "document_task"),
        truncate_long_texts=_switch(raw, "truncate_long_texts", True),
        embedding_vision=_choice(raw, "embedding_vision", _OVERRIDES, "auto"),
        rerank_vision=_choice(raw, "rerank_vision", _OVERRIDES, "auto"),
        rerank_instruction=_text(raw, "rerank_instruction"),
        rerank_batch_size=int(_number(raw, "rerank_batch_size", 256, 1, 4096, integer=True)),
        language=_text(raw, "language"),
        audio_format=_choice(raw, "audio_format", _AUDIO_FORMATS, "mp3"),
        speed=_number(raw, "speed", 1.0, 0.25, 4.0, integer=False),
        default_voice=_text(raw, "default_voice"),
        tts_streaming=_switch(raw, "tts_streaming", False),
    )


def _raw_text(raw: Mapping, field: str) -> str:
    """Like _text, but keeps surrounding spaces: "query: " must keep its trailing space."""
    _text(raw, field)  # validation only
    value = raw.get(field) or ""
    return value.strip("\r\n")
