"""Xinference chat / generate models as a Dify LLM."""

from __future__ import annotations

from collections.abc import Generator, Mapping

from dify_plugin.entities.model import AIModelEntity, ModelPropertyKey, ModelType
from dify_plugin.entities.model.llm import LLMMode, LLMResult, LLMResultChunk
from dify_plugin.entities.model.message import PromptMessage, PromptMessageTool
from dify_plugin.interfaces.model.large_language_model import LargeLanguageModel

from models._xinference.base import XinferenceModelMixin
from models._xinference.schemas import model_entity


class XinferenceLargeLanguageModel(XinferenceModelMixin, LargeLanguageModel):
    def validate_credentials(self, model: str, credentials: Mapping) -> None:
        self._validated_description(credentials, "LLM", lambda d: d.model_type == "llm")

    def get_customizable_model_schema(self, model: str, credentials: Mapping) -> AIModelEntity | None:
        return model_entity(model, ModelType.LLM, {ModelPropertyKey.MODE: LLMMode.CHAT.value,
                                                   ModelPropertyKey.CONTEXT_SIZE: 2048})

    def _invoke(
        self,
        model: str,
        credentials: dict,
        prompt_messages: list[PromptMessage],
        model_parameters: dict,
        tools: list[PromptMessageTool] | None = None,
        stop: list[str] | None = None,
        stream: bool = True,
        user: str | None = None,
    ) -> LLMResult | Generator[LLMResultChunk, None, None]:
        raise NotImplementedError("LLM invocation is not built yet")

    def get_num_tokens(
        self,
        model: str,
        credentials: dict,
        prompt_messages: list[PromptMessage],
        tools: list[PromptMessageTool] | None = None,
    ) -> int:
        return sum(len(str(m.content or "")) // 4 for m in prompt_messages)
