"""Xinference chat / generate models as a Dify LLM: the SDK contract and the routing between modes.

Translation lives beside it in models/llm: schema (profile + parameter rules), messages, request,
reply / stream (answers), think, tool_markup; the token estimate is shared (models/_xinference).
In steady state one invocation is one HTTP request: the model description comes from the process
cache (the SDK asks for the schema before every invocation, which fills it), and the pooled session
is reused.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Generator, Mapping, Sequence
from typing import override

from dify_plugin.entities.model import AIModelEntity
from dify_plugin.entities.model.llm import LLMMode, LLMResult, LLMResultChunk, LLMResultChunkDelta, LLMUsage
from dify_plugin.entities.model.message import AssistantPromptMessage, PromptMessage, PromptMessageTool
from dify_plugin.errors.model import CredentialsValidateFailedError, InvokeError
from dify_plugin.interfaces.model.large_language_model import LargeLanguageModel

from models._xinference.base import XinferenceModelMixin
from models._xinference.credentials import XinferenceCredentials
from models._xinference.model_info import ModelDescription
from models._xinference.model_kinds import LLM
from models._xinference.tokens import estimate_tokens
from models._xinference.usage import llm_usage
from models.llm.inline_think import expects_reasoning
from models.llm.messages import chat_messages, completion_prompt, estimate_prompt_tokens
from models.llm.parameters import THINKING_PARAMETER
from models.llm.reply import Reply, chat_reply, completion_reply
from models.llm.request import chat_body, completion_body
from models.llm.schema import LLMProfile, llm_entity, resolve_profile
from models.llm.stream import AnswerStream
from models.llm.tool_markup import ToolCall, tool_schemas
from models.llm.tool_stream_fallback import ReplyStream, open_chat_stream

logger = logging.getLogger(__name__)


class XinferenceLLMResult(LLMResult):
    """LLMResult has no finish_reason, and the SDK turns it into one chunk without one: keep it."""

    finish_reason: str | None = None

    def to_llm_result_chunk(self) -> LLMResultChunk:
        chunk = super().to_llm_result_chunk()
        chunk.delta.finish_reason = self.finish_reason
        return chunk


class XinferenceLargeLanguageModel(XinferenceModelMixin, LargeLanguageModel):
    kind = LLM

    def validate_credentials(self, model: str, credentials: Mapping) -> None:
        _, description = self._validated_description(credentials)
        if not description.abilities & {"chat", "generate"}:
            raise CredentialsValidateFailedError(
                f"Model {description.uid!r} is an LLM that reports neither the chat nor the generate ability "
                f"(abilities: {', '.join(sorted(description.abilities)) or 'none'}), so Dify cannot call it"
            )

    def _build_schema(
        self, model: str, creds: XinferenceCredentials | None, description: ModelDescription | None
    ) -> AIModelEntity:
        return llm_entity(model, resolve_profile(creds, description) if creds else LLMProfile())

    @override
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
        client = self._client(credentials)
        # Built like the schema: while the server cannot describe the model, from the admin's overrides.
        profile = resolve_profile(client.credentials, self._call_description_if_any(client))
        uid = client.credentials.model_uid
        chat = profile.mode is LLMMode.CHAT
        schemas = tool_schemas(tools)
        thinks = expects_reasoning(profile.always_thinks, model_parameters.get(THINKING_PARAMETER))
        if chat:
            path, what = "/v1/chat/completions", f"chat with model {uid!r}"
            messages = chat_messages(prompt_messages, profile)
            body = chat_body(uid, messages, model_parameters, profile, tools=tools, stop=stop, stream=stream)
        else:
            path, what = "/v1/completions", f"completion with model {uid!r}"
            prompt = completion_prompt(prompt_messages, tools)
            body = completion_body(uid, prompt, model_parameters, stop=stop, stream=stream)

        if stream:
            # The request is made here, so connection and status errors go through the SDK's mapping;
            # the generator only reads the event stream.
            if chat:  # a server that refuses streamed tools gets one blocking call instead
                answer = open_chat_stream(
                    client, path, body, what=what, tools=schemas, expect_reasoning=thinks
                )
            else:
                answer = AnswerStream(client.stream_events(path, body, what=what, require_done=False))
            return self._stream(model, credentials, prompt_messages, tools, answer)

        data = client.post_json(path, body, what=what)
        if chat:
            reply = chat_reply(data, what, tools=schemas, expect_reasoning=thinks)
        else:
            reply = completion_reply(data, what)
        usage = self._usage(model, credentials, prompt_messages, tools, reply)
        return XinferenceLLMResult(
            model=model,
            message=AssistantPromptMessage(content=reply.text, tool_calls=reply.tool_calls),
            usage=usage,
            finish_reason=reply.finish_reason,
        )

    def _stream(
        self,
        model: str,
        credentials: dict,
        prompt_messages: list[PromptMessage],
        tools: list[PromptMessageTool] | None,
        answer: AnswerStream | ReplyStream,
    ) -> Generator[LLMResultChunk, None, None]:
        # The SDK maps errors only around _invoke, not while its result is iterated: everything
        # raised in here must already be an Invoke* error.
        index = 0
        try:
            for piece in answer:
                yield _chunk(model, index, piece)
                index += 1
            usage = self._usage(model, credentials, prompt_messages, tools, answer)
            yield _chunk(
                model,
                index,
                "",
                tool_calls=answer.tool_calls,
                usage=usage,
                finish_reason=answer.finish_reason,
            )
        except InvokeError:
            raise
        except Exception as exc:
            raise self._transform_invoke_error(exc) from exc
        finally:
            answer.close()

    def _usage(
        self,
        model: str,
        credentials: dict,
        prompt_messages: Sequence[PromptMessage],
        tools: Sequence[PromptMessageTool] | None,
        answer: Reply | AnswerStream | ReplyStream,
    ) -> LLMUsage:
        """The server's counts; an offline estimate only for what it did not report."""
        prompt, completion = answer.tokens
        if prompt is None:
            prompt = estimate_prompt_tokens(prompt_messages, tools)
        if completion is None:
            calls = " ".join(f"{c.function.name} {c.function.arguments}" for c in answer.tool_calls)
            completion = estimate_tokens(answer.text) + estimate_tokens(calls)
        return llm_usage(prompt, completion, time.perf_counter() - self.started_at)

    def get_num_tokens(
        self,
        model: str,
        credentials: dict,
        prompt_messages: list[PromptMessage],
        tools: list[PromptMessageTool] | None = None,
    ) -> int:
        return estimate_prompt_tokens(prompt_messages, tools)  # offline: no tokenizer download, no request


def _chunk(
    model: str,
    index: int,
    content: str,
    *,
    tool_calls: list[ToolCall] | None = None,
    usage: LLMUsage | None = None,
    finish_reason: str | None = None,
) -> LLMResultChunk:
    return LLMResultChunk(
        model=model,
        delta=LLMResultChunkDelta(
            index=index,
            message=AssistantPromptMessage(content=content, tool_calls=tool_calls or []),
            usage=usage,
            finish_reason=finish_reason,
        ),
    )
