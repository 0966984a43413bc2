"""What the server says about a running model (`GET /v1/models/{uid}`), typed; which Dify model type takes
it (`is_<type>`, `ModelKind`); and its bounded TTL cache.

Dify keeps none of what a plugin learns while validating credentials, and asks for the model schema
often, so the description is cached in the plugin process per (server, uid, key) for a short time.
The fetch runs outside the lock: concurrent callers never wait on each other's network I/O.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from models._xinference.process_state import TTLMap, on_reset

# Older servers (before v1.5.1) spelled audio abilities as one string; map them to today's words.
_ABILITY_ALIASES = {"audio-to-text": "audio2text", "text-to-audio": "text2audio"}

# model_type as Xinference reports it -> the Dify model type an admin should add it as
DIFY_TYPE_FOR = {
    "llm": "LLM",
    "embedding": "Text Embedding",
    "rerank": "Rerank",
}


@dataclass(frozen=True)
class ModelDescription:
    uid: str
    model_type: str  # lower case: llm, embedding, rerank, audio, image, video, flexible …
    model_name: str = ""
    abilities: frozenset[str] = frozenset()
    family: str = ""
    engine: str = ""
    context_length: int | None = None
    max_tokens: int | None = None
    dimensions: int | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, uid: str, data: Mapping[str, Any]) -> ModelDescription:
        return cls(
            uid=uid,
            model_type=str(data.get("model_type") or "").lower(),
            model_name=str(data.get("model_name") or ""),
            abilities=parse_abilities(data.get("model_ability")),
            family=str(data.get("model_family") or ""),
            engine=str(data.get("model_engine") or ""),
            context_length=_positive_int(data.get("context_length")),
            max_tokens=_positive_int(data.get("max_tokens")),
            dimensions=_positive_int(data.get("dimensions")),
            raw=dict(data),
        )

    @classmethod
    def list_from_json(cls, data: Any) -> list[ModelDescription] | None:
        """`GET /v1/models`: {"data": [...]}, or {uid: description} before v0.9.3; None for another shape."""
        if isinstance(data, dict) and isinstance(data.get("data"), list):
            return [cls.from_json(str(d.get("id", "")), d) for d in data["data"] if isinstance(d, dict)]
        if isinstance(data, dict):
            return [cls.from_json(uid, d) for uid, d in data.items() if isinstance(d, dict)]
        return None

    def has(self, ability: str) -> bool:
        return ability in self.abilities

    @property
    def dify_type(self) -> str:
        """Which Dify model type this model belongs under, for 'add it as …' messages."""
        if self.model_type == "audio":
            if self.has("audio2text"):
                return "Speech2text"
            if self.abilities & {"text2audio", "text2audio_zero_shot", "text2audio_voice_cloning"}:
                return "TTS"
            return "Speech2text or TTS"
        return DIFY_TYPE_FOR.get(
            self.model_type, f"none (Dify has no {self.model_type or 'such'} model type)"
        )


# 4.x names image input per model type; 3.4 said plain "vision" for both (3.3 and older say nothing).
_IMAGE_ABILITY = {"embedding": "embed_vision", "rerank": "rerank_vision"}


def takes_images(description: ModelDescription) -> bool:
    """Whether the server reports that this embedding or rerank model accepts images."""
    wanted = _IMAGE_ABILITY.get(description.model_type)
    return wanted is not None and bool(description.abilities & {wanted, "vision"})


def parse_abilities(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple):
        return frozenset()
    return frozenset(_ABILITY_ALIASES.get(str(v), str(v)) for v in value if v)


def _positive_int(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


# ---- which Dify model type takes which model: the is_<type> predicates -------------------------
# Validation checks the live description with them (and lists the running models that pass), schemas
# ignore a description that fails them, and every call checks the cached description with them, so a
# UID relaunched as another kind of model gets a clear message instead of the server's 500.

_TTS_ABILITIES = frozenset({"text2audio", "text2audio_zero_shot", "text2audio_voice_cloning"})


def is_llm(description: ModelDescription) -> bool:
    return description.model_type == "llm"


def is_embedding(description: ModelDescription) -> bool:
    return description.model_type == "embedding"


def is_rerank(description: ModelDescription) -> bool:
    return description.model_type == "rerank"


def is_speech2text(description: ModelDescription) -> bool:
    """An audio model that says audio2text (list or pre-v1.5.1 string, already normalised). Servers
    before v1.6.0 report no abilities at all; those are accepted and the test transcription decides."""
    if description.model_type != "audio":
        return False
    return description.has("audio2text") or not description.abilities


def is_tts(description: ModelDescription) -> bool:
    """An audio model that says text2audio (list or pre-v1.5.1 string, already normalised). Servers
    before v1.6.0 report no abilities at all; those are accepted and the test synthesis decides."""
    if description.model_type != "audio":
        return False
    return bool(description.abilities & _TTS_ABILITIES) or not description.abilities


@dataclass(frozen=True)
class ModelKind:
    """A Dify model type as the mixin needs it: its name in messages and which models it takes."""

    dify_name: str  # as Dify's UI names the type: "an LLM", "a Text Embedding model" in messages
    accepts: Callable[[ModelDescription], bool]


LLM = ModelKind("LLM", is_llm)
TEXT_EMBEDDING = ModelKind("Text Embedding", is_embedding)
RERANK = ModelKind("Rerank", is_rerank)
SPEECH2TEXT = ModelKind("Speech2text", is_speech2text)
TTS = ModelKind("TTS", is_tts)


def _detached(exc: Exception) -> Exception:
    """A copy without traceback, cause or context. A remembered failure is raised again by every call
    for `failure_ttl`, and raising one object again and again prepends each raise's frames (and so their
    locals) to its traceback: 19 KB per call against a refused server, measured by bench/uptime.py."""
    try:
        return copy.copy(exc)
    except Exception:  # an exception type that cannot be rebuilt from its args
        return exc.with_traceback(None)


CacheKey = tuple[str, str, str]  # (server_url, model_uid, key fingerprint)


class DescriptionCache:
    """Model descriptions for `ttl` seconds; failures are remembered for `failure_ttl` so a down server
    is not hammered by every schema request Dify makes while listing models. At most `max_entries`
    (server, uid, key) combinations are held."""

    def __init__(
        self,
        ttl: float = 300.0,
        failure_ttl: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = 1024,
    ):
        self.ttl = ttl
        self.failure_ttl = failure_ttl
        self._entries = TTLMap(max_entries=max_entries, clock=clock)

    def get(self, key: CacheKey, fetch: Callable[[], ModelDescription]) -> ModelDescription:
        entry = self._entries.get(key)
        if isinstance(entry, Exception):
            raise _detached(entry)
        if entry is not None:
            return entry
        try:
            description = fetch()  # network I/O: deliberately outside the lock
        except Exception as exc:
            self._entries.put(key, _detached(exc), self.failure_ttl)
            raise
        self._entries.put(key, description, self.ttl)
        return description

    def peek(self, key: CacheKey) -> ModelDescription | None:
        """A fresh cached description, or None; never fetches."""
        entry = self._entries.get(key)
        return entry if isinstance(entry, ModelDescription) else None

    def invalidate(self, key: CacheKey) -> None:
        self._entries.pop(key)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


DESCRIPTIONS = DescriptionCache()
on_reset(DESCRIPTIONS.clear)
