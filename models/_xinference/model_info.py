"""What the server says about a running model (`GET /v1/models/{uid}`), typed, and a small TTL cache.

Dify keeps none of what a plugin learns while validating credentials, and asks for the model schema
often, so the description is cached in the plugin process per (server, uid, key) for a short time.
The fetch runs outside the lock: concurrent callers never wait on each other's network I/O.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

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
    """TTL cache of model descriptions; failures are remembered briefly so a down server is not
    hammered by every schema request Dify makes while listing models."""

    def __init__(
        self,
        ttl: float = 300.0,
        failure_ttl: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = 1024,
    ):
        self.ttl = ttl
        self.failure_ttl = failure_ttl
        # Bounded: a plugin process that lives for months sees every (server, uid, key) any tenant
        # ever used; expired entries are only replaced when the same key comes back.
        self.max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[CacheKey, tuple[float, ModelDescription | Exception]] = {}

    def get(self, key: CacheKey, fetch: Callable[[], ModelDescription]) -> ModelDescription:
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
        if entry and entry[0] > now:
            if isinstance(entry[1], Exception):
                raise _detached(entry[1])
            return entry[1]
        try:
            description = fetch()  # network I/O: deliberately outside the lock
        except Exception as exc:
            self._store(key, self.failure_ttl, _detached(exc))
            raise
        self._store(key, self.ttl, description)
        return description

    def _store(self, key: CacheKey, ttl: float, value: ModelDescription | Exception) -> None:
        now = self._clock()
        with self._lock:
            self._entries.pop(key, None)  # re-inserted last: the oldest entries are the first to go
            if len(self._entries) >= self.max_entries:
                for old in [k for k, (expires, _) in self._entries.items() if expires <= now]:
                    del self._entries[old]
                while len(self._entries) >= self.max_entries:
                    del self._entries[next(iter(self._entries))]
            self._entries[key] = (now + ttl, value)

    def __len__(self) -> int:
        return len(self._entries)

    def peek(self, key: CacheKey) -> ModelDescription | None:
        """A fresh cached description, or None; never fetches."""
        with self._lock:
            entry = self._entries.get(key)
        if entry and entry[0] > self._clock() and isinstance(entry[1], ModelDescription):
            return entry[1]
        return None

    def invalidate(self, key: CacheKey) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


DESCRIPTIONS = DescriptionCache()
