"""Xinference text-to-audio models as a Dify TTS model."""

from __future__ import annotations

from collections.abc import Generator, Mapping

from dify_plugin.entities.model import AIModelEntity, ModelType
from dify_plugin.interfaces.model.tts_model import TTSModel

from models._xinference.base import XinferenceModelMixin
from models._xinference.schemas import model_entity


class XinferenceTTSModel(XinferenceModelMixin, TTSModel):
    def validate_credentials(self, model: str, credentials: Mapping) -> None:
        self._validated_description(credentials, "TTS", lambda d: d.has("text2audio"))

    def get_customizable_model_schema(self, model: str, credentials: Mapping) -> AIModelEntity | None:
        return model_entity(model, ModelType.TTS, {})

    def _invoke(
        self,
        model: str,
        tenant_id: str,
        credentials: dict,
        content_text: str,
        voice: str,
        user: str | None = None,
    ) -> bytes | Generator[bytes, None, None]:
        raise NotImplementedError("text-to-speech is not built yet")
