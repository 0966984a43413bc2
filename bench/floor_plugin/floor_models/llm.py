"""Floor LLM: a constant reply, blocking or as `floor_chunks` stream chunks; no HTTP."""

from __future__ import annotations

from collections.abc import Generator, Mapping

from dify_plugin.entities.model import AIModelEntity, FetchFrom, ModelType
from dify_plugin.entities.model.llm import LLMResult, LLMResultChunk, LLMResultChunkDelta
from dify_plugin.entities.model.message import AssistantPromptMessage
from dify_plugin.errors.model import InvokeError
from dify_plugin.interfaces.model.large_language_model import LargeLanguageModel
from floor_models import constants


class FloorLLM(LargeLanguageModel):
    def _invoke(  # noqa: PLR0917  (the SDK's signature)
        self,
        model,
        credentials,
        prompt_messages,
        model_parameters,
        tools=None,
        stop=None,
        stream=True,
        user=None,
    ):
        usage = self._calc_response_usage(
            model, credentials, constants.PROMPT_TOKENS, constants.COMPLETION_TOKENS
        )
        if not stream:
            message = AssistantPromptMessage(content=constants.REPLY)
            return LLMResult(model=model, prompt_messages=[], message=message, usage=usage)
        return self._chunks(model, int(credentials.get("floor_chunks") or constants.STREAM_CHUNKS), usage)

    @staticmethod
    def _chunks(model: str, count: int, usage) -> Generator[LLMResultChunk, None, None]:
        for i in range(count):
            last = i == count - 1
            yield LLMResultChunk(
                model=model,
                prompt_messages=[],
                delta=LLMResultChunkDelta(
                    index=i,
                    message=AssistantPromptMessage(content=f" word{i}"),
                    usage=usage if last else None,
                    finish_reason="stop" if last else None,
                ),
            )

    def get_num_tokens(self, model, credentials, prompt_messages, tools=None) -> int:
        return constants.PROMPT_TOKENS

    def validate_credentials(self, model: str, credentials: Mapping) -> None:
        pass

    def get_customizable_model_schema(self, model: str, credentials: Mapping) -> AIModelEntity:
        return AIModelEntity(
            model=model,
            label={"en_US": model},
            model_type=ModelType.LLM,
            fetch_from=FetchFrom.CUSTOMIZABLE_MODEL,
            model_properties={"mode": "chat", "context_size": 4096},
            parameter_rules=[],
        )

    @property
    def _invoke_error_mapping(self) -> dict[type[InvokeError], list[type[Exception]]]:
        return {}
