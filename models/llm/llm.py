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
from typing import Any, override

from dify_plugin.entities.model import AIModelEntity
from dify_plugin.entities.model.llm import LLMMode, LLMResult, LLMResultChunk, LLMResultChunkDelta, LLMUsage
from dify_plugin.entities.model.message import AssistantPromptMessage, PromptMessage, PromptMessageTool
from dify_plugin.errors.model import CredentialsValidateFailedError, InvokeError
from dify_plugin.interfaces.model.large_language_model import LargeLanguageModel

from models._xinference.base import XinferenceModelMixin
from models._xinference.client import XinferenceClient
from models._xinference.schemas import SCHEMAS
from models._xinference.tokens import estimate_tokens
from models._xinference.usage import llm_usage
from models.llm.inline_think import expects_reasoning
from models.llm.messages import chat_messages, completion_prompt, estimate_prompt_tokens
from models.llm.parameters import THINKING_PARAMETER
from models.llm.reply import Reply, chat_reply, completion_reply
from models.llm.request import chat_body, completion_body
from models.llm.schema import LLMProfile, llm_entity, resolve_profile
from models.llm.stream import AnswerStream
from models.llm.structured_output import structured_output
from models.llm.tool_choice import send_with_tool_choice, tool_choice_from
from models.llm.tool_markup import ToolCall, tool_schemas
from models.llm.tool_stream_fallback import ReplyStream, blocking_body, open_chat_stream

logger = logging.getLogger(__name__)


class XinferenceLLMResult(LLMResult):
    """LLMResult has no finish_reason, and the SDK turns it into one chunk without one: keep it."""

    finish_reason: str | None = None

    def to_llm_result_chunk(self) -> LLMResultChunk:
        chunk = super().to_llm_result_chunk()
        chunk.delta.finish_reason = self.finish_reason
        return chunk


class XinferenceLargeLanguageModel(XinferenceModelMixin, LargeLanguageModel):
    def validate_credentials(self, model: str, credentials: Mapping) -> None:
        _, description = self._validated_description(credentials, "LLM", lambda d: d.model_type == "llm")
        if not description.abilities & {"chat", "generate"}:
            raise CredentialsValidateFailedError(
                f"Model {description.uid!r} is an LLM that reports neither the chat nor the generate ability "
                f"(abilities: {', '.join(sorted(description.abilities)) or 'none'}), so Dify cannot call it"
            )

    def get_customizable_model_schema(self, model: str, credentials: Mapping) -> AIModelEntity | None:
        return SCHEMAS.get("llm", model, credentials, lambda: self._build_schema(model, credentials))

    def _build_schema(self, model: str, credentials: Mapping) -> AIModelEntity:
        # Never raises: Dify lists models with this, and a down server must not break the list.
        try:
            client = self._client(credentials)
        except CredentialsValidateFailedError:
            return llm_entity(model, LLMProfile())
        return llm_entity(model, self._profile(client))

    @staticmethod
    def _profile(client: XinferenceClient, *, invoking: bool = False) -> LLMProfile:
        # The description is cached per server + uid + key; while the server is down the profile
        # comes from the admin's overrides and safe defaults. A rejected key is not: an invocation
        # stops at the description's 401 instead of sending the same key a second time.
        return resolve_profile(client.credentials, client.describe_for_schema(raise_authorization=invoking))

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
        tool_choice: Any = None,  # not passed by dify_plugin 0.10.2; see tool_choice.py
    ) -> LLMResult | Generator[LLMResultChunk, None, None]:
        client = self._client(credentials)
        profile = self._profile(client, invoking=True)
        uid = client.credentials.model_uid
        chat = profile.mode is LLMMode.CHAT
        schemas = tool_schemas(tools)
        thinks = expects_reasoning(profile.always_thinks, model_parameters.get(THINKING_PARAMETER))
        structured = structured_output(model_parameters, profile) if chat else None
        if chat:
            path, what = "/v1/chat/completions", f"chat with model {uid!r}"
            messages = chat_messages(prompt_messages, profile)
            choice = tool_choice_from(tool_choice, model_parameters)
            body = chat_body(
                uid,
                messages,
                model_parameters,
                profile,
                tools=tools,
                stop=stop,
                stream=stream,
                tool_choice=choice,
            )
            if structured:
                body = structured.shape_body(body | {"messages": structured.instruct(messages)})
        else:
            path, what = "/v1/completions", f"completion with model {uid!r}"
            prompt = completion_prompt(prompt_messages, tools)
            body = completion_body(uid, prompt, model_parameters, stop=stop, stream=stream)

        if structured and structured.instructed:  # the whole answer is needed to take its JSON out
            data = send_with_tool_choice(
                lambda b: client.post_json(path, b, what=what), blocking_body(body), what
            )
            reply = structured.extract(chat_reply(data, what, tools=schemas, expect_reasoning=thinks), what)
            if stream:
                return self._stream(model, credentials, prompt_messages, tools, ReplyStream(reply))
            return self._result(model, credentials, prompt_messages, tools, reply)
        if stream:
            # The request is made here, so connection and status errors go through the SDK's mapping;
            # the generator only reads the event stream.
            if chat:  # a server that refuses streamed tools gets one blocking call instead
                answer = send_with_tool_choice(
                    lambda b: open_chat_stream(
                        client, path, b, what=what, tools=schemas, expect_reasoning=thinks
                    ),
                    body,
                    what,
                )
            else:
                answer = AnswerStream(client.stream_events(path, body, what=what, require_done=False))
            return self._stream(model, credentials, prompt_messages, tools, answer)

        data = send_with_tool_choice(lambda b: client.post_json(path, b, what=what), body, what)
        if chat:
            reply = chat_reply(data, what, tools=schemas, expect_reasoning=thinks)
        else:
            reply = completion_reply(data, what)
        return self._result(model, credentials, prompt_messages, tools, reply)

    def _result(
        self,
        model: str,
        credentials: dict,
        prompt_messages: list[PromptMessage],
        tools: list[PromptMessageTool] | None,
        reply: Reply,
    ) -> XinferenceLLMResult:
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
