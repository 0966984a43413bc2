"""Which Xinference models each Dify model type takes: the `is_<type>` predicates, in one place.

Validation checks the live description with them (and lists the running models that pass), schemas
ignore a description that fails them, and every call checks the cached description with them, so a
UID relaunched as another kind of model gets a clear message instead of the server's 500.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from models._xinference.model_info import ModelDescription

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
