"""Xinference audio-to-text models as a Dify speech2text model."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO

from dify_plugin.entities.model import AIModelEntity, ModelType
from dify_plugin.interfaces.model.speech2text_model import Speech2TextModel

from models._xinference.base import XinferenceModelMixin
from models._xinference.schemas import model_entity


class XinferenceSpeech2TextModel(XinferenceModelMixin, Speech2TextModel):
    def validate_credentials(self, model: str, credentials: Mapping) -> None:
        self._validated_description(credentials, "Speech2text", lambda d: d.has("audio2text"))

    def get_customizable_model_schema(self, model: str, credentials: Mapping) -> AIModelEntity | None:
        return model_entity(model, ModelType.SPEECH2TEXT, {})

    def _invoke(self, model: str, credentials: dict, file: IO[bytes], user: str | None = None) -> str:
        raise NotImplementedError("speech-to-text is not built yet")
