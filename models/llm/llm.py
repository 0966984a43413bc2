"""Xinference chat / generate models as a Dify LLM: the SDK contract and the routing between modes.

One invocation, in order: the profile (schema.py) from the cached description and the admin's
overrides; the request (request.py, with messages.py, reasoning_request.py, and structured_output.py
when the request asks for it); the routing below, blocking, streamed, or one blocking call for a
server that refuses streamed tools; the answer (answers.py, streams.py, read with reasoning.py and
tool_calls.py); Dify's chunks and usage. In steady state one invocation is one
HTTP request: the model description comes from the process cache (the SDK asks for the schema before
every invocation, which fills it), and the pooled session is reused.

Xinference 1.x answers `stream: true` + `tools` with HTTP 400 "Streaming support for tool calls is
available only when using Qwen models with vLLM backend or GLM4-chat models without vLLM backend"
for every other engine/family. Dify's agents always stream, so that refusal is answered with one
blocking call whose answer is handed on as the stream, and remembered per server + model for a while
so later turns go straight to the blocking call instead of paying twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Generator, Mapping, Sequence
from typing import Any, override

from dify_plugin.entities.model import AIModelEntity
from dify_plugin.entities.model.llm import LLMMode, LLMResult, LLMResultChunk, LLMUsage
from dify_plugin.entities.model.message import AssistantPromptMessage, PromptMessage, PromptMessageTool
from dify_plugin.errors.model import CredentialsValidateFailedError, InvokeBadRequestError, InvokeError
from dify_plugin.interfaces.model.large_language_model import LargeLanguageModel

from models._xinference.base import XinferenceModelMixin
from models._xinference.client import XinferenceClient
from models._xinference.credentials import XinferenceCredentials
from models._xinference.errors import HTTPStatusError
from models._xinference.model_info import LLM, ModelDescription
from models._xinference.process_state import TTLMap, on_reset
from models._xinference.tokens import estimate_tokens
from models.llm.answers import (
    Answer,
    XinferenceLLMResult,
    chat_reply,
    completion_reply,
    llm_usage,
    result_chunk,
)
from models.llm.messages import estimate_prompt_tokens
from models.llm.parameters import THINKING_PARAMETER
from models.llm.reasoning import expects_reasoning
from models.llm.request import blocking_body, build_request
from models.llm.schema import LLMProfile, llm_entity, resolve_profile
from models.llm.streams import ChatStream, CompletionStream
from models.llm.tool_calls import ToolSchemas, send_with_tool_choice, tool_schemas

logger = logging.getLogger(__name__)


_REFUSAL = "streaming support for tool calls"  # the words every 1.x release uses in that 400
REFUSAL_TTL = 600.0  # seconds a refusal is remembered: the server may be upgraded
# (server_url, model_uid) that refused streamed tools; bounded, a process may serve many
STREAMED_TOOLS_REFUSED = TTLMap(max_entries=256)
on_reset(STREAMED_TOOLS_REFUSED.clear)


def refuses_streamed_tools(err: Exception) -> bool:
    """Is this the server's 400 for 'stream + tools is not supported by this model/engine'?"""
    if not isinstance(err, HTTPStatusError) or err.status_code != 400:
        return False
    return _REFUSAL in err.detail.lower()


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
        tool_choice: Any = None,  # not passed by dify_plugin 0.10.2; see tool_calls.py
    ) -> LLMResult | Generator[LLMResultChunk, None, None]:
        client = self._client(credentials)
        # Built like the schema: while the server cannot describe the model, from the admin's overrides.
        profile = resolve_profile(client.credentials, self._call_description_if_any(client))
        chat = profile.mode is LLMMode.CHAT
        schemas = tool_schemas(tools)
        thinks = expects_reasoning(profile.always_thinks, model_parameters.get(THINKING_PARAMETER))
        path, what, body, structured = build_request(
            client.credentials.model_uid,
            profile,
            prompt_messages,
            model_parameters,
            tools=tools,
            stop=stop,
            stream=stream,
            tool_choice=tool_choice,
        )
        if structured and structured.instructed:  # the whole answer is needed to take its JSON out
            data = send_with_tool_choice(
                lambda b: client.post_json(path, b, what=what), blocking_body(body), what
            )
            answer: Answer = structured.extract(
                chat_reply(data, what, tools=schemas, expect_reasoning=thinks), what
            )
        else:
            answer = send_with_tool_choice(
                lambda b: _answer(
                    client, path, b, what=what, chat=chat, stream=stream, tools=schemas, thinks=thinks
                ),
                body,
                what,
            )
        if stream:
            return self._stream(model, prompt_messages, tools, answer)
        return XinferenceLLMResult(
            model=model,
            message=AssistantPromptMessage(content=answer.text, tool_calls=answer.tool_calls),
            usage=self._usage(prompt_messages, tools, answer),
            finish_reason=answer.finish_reason,
        )

    def _stream(
        self,
        model: str,
        prompt_messages: list[PromptMessage],
        tools: list[PromptMessageTool] | None,
        answer: Answer,
    ) -> Generator[LLMResultChunk, None, None]:
        # The SDK maps errors only around _invoke, not while its result is iterated: everything
        # raised in here must already be an Invoke* error.
        index = 0
        try:
            for piece in answer:
                yield result_chunk(model, index, piece)
                index += 1
            usage = self._usage(prompt_messages, tools, answer)
            yield result_chunk(
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
        prompt_messages: Sequence[PromptMessage],
        tools: Sequence[PromptMessageTool] | None,
        answer: Answer,
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


def _answer(
    client: XinferenceClient,
    path: str,
    body: dict[str, Any],
    *,
    what: str,
    chat: bool,
    stream: bool,
    tools: ToolSchemas | None,
    thinks: bool,
) -> Answer:
    """The routing: a blocking reply, a stream, or for a server that refuses streamed tools (known or
    new) one blocking call handed on as the stream. The request is made here, inside `_invoke`, so
    connection and status errors go through the SDK's error mapping; a stream's generator only reads."""
    if not stream:
        data = client.post_json(path, body, what=what)
        return (
            chat_reply(data, what, tools=tools, expect_reasoning=thinks)
            if chat
            else completion_reply(data, what)
        )
    if not chat:
        return CompletionStream(client.stream_events(path, body, what=what, require_done=False))
    refusal_key = (client.credentials.server_url, client.credentials.model_uid)
    blocking = {"chat": True, "stream": False, "tools": tools, "thinks": thinks}
    if tools is not None and STREAMED_TOOLS_REFUSED.get(refusal_key):
        return _answer(client, path, blocking_body(body), what=what, **blocking)
    try:
        events = client.stream_events(path, body, what=what, require_done=True)
    except InvokeBadRequestError as err:
        if tools is None or not refuses_streamed_tools(err):
            raise
        logger.info(
            "%s: the server refuses streamed tool calls; answering with one blocking call (remembered "
            "for %.0f s)",
            what,
            REFUSAL_TTL,
        )
        STREAMED_TOOLS_REFUSED.put(refusal_key, True, REFUSAL_TTL)
        return _answer(client, path, blocking_body(body), what=what, **blocking)
    return ChatStream(events, tools=tools, expect_reasoning=thinks)
