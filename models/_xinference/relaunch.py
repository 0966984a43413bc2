"""Noticing that a UID now names a different model (terminated and relaunched with other weights, abilities
or context length) before the cached description expires.

The plugin caches each model's description for five minutes (model_info.py). A model relaunched under the
same UID in that window is still described as the old one: a chat model replaced by a generate-only one
gets chat requests, which Xinference 4.1 answers with a bare `500 The chat completion request failed`.
Xinference offers no cheap "launch generation" field to compare on every call, so the plugin re-reads the
description when an inference request *fails* with a status a changed model produces (400, 404, 422, 500):
one quick GET, only on errors, never on the success path. When the description differs, the error says
what changed, and the fresh description is what the next call (and Dify's next schema request) uses.
"""

from __future__ import annotations

from typing import Any, Protocol

from dify_plugin.errors.model import InvokeError

from models._xinference.credentials import XinferenceCredentials
from models._xinference.model_info import DESCRIPTIONS, CacheKey, ModelDescription
from models._xinference.schemas import SCHEMAS


class _Describer(Protocol):
    """What this module needs of the client (named here, so client.py and this module import one way)."""

    credentials: XinferenceCredentials
    cache_key: CacheKey

    def cached_description(self) -> ModelDescription | None: ...

    def quick(self, timeout: float) -> Any: ...


RECHECK_STATUSES = frozenset({400, 404, 422, 500})
RECHECK_TIMEOUT = 5.0  # seconds: the re-read must not make a failing call much slower


def explain_failure(client: _Describer, err: Exception) -> Exception:
    """`err`, with a note when the model under the UID changed since its description was cached."""
    if getattr(err, "status_code", 0) not in RECHECK_STATUSES:
        return err
    before = client.cached_description()
    if before is None:  # nothing cached (or already dropped): the next call reads it anyway
        return err
    DESCRIPTIONS.invalidate(client.cache_key)
    try:
        now = client.quick(min(client.credentials.timeout, RECHECK_TIMEOUT)).describe()
    except InvokeError:
        return err  # gone, or the server is failing: the error as it is, and no stale description kept
    change = difference(before, now)
    if change:
        SCHEMAS.clear()  # built from the old description a moment ago, during this very call
    if change and isinstance(err, InvokeError):
        uid = client.credentials.model_uid
        note = (
            f" — the model running under UID {uid!r} is not the one the plugin knew: it was {change}. It was "
            "relaunched as a different model; the plugin now uses the new description, so the next call "
            "(and the model's settings in Dify) follow it"
        )
        err.description = str(err) + note
        err.args = (err.description,)
    return err


def difference(before: ModelDescription, now: ModelDescription) -> str:
    """'A, now B' in the words an admin knows (name, type, abilities, context), or '' when the same."""
    old, new = _summary(before), _summary(now)
    return "" if old == new else f"{old}, now {new}"


def _summary(d: ModelDescription) -> str:
    abilities = ", ".join(sorted(d.abilities)) or "no abilities listed"
    context = f"; context {d.context_length}" if d.context_length else ""
    dims = f"; {d.dimensions} dimensions" if d.dimensions else ""
    return f"{d.model_name or '?'} ({d.model_type}: {abilities}{context}{dims})"
