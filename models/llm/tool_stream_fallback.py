"""Servers that refuse a streamed chat with tools: one blocking call, its answer handed on as the stream.

Xinference 1.x answers `stream: true` + `tools` with HTTP 400 "Streaming support for tool calls is
available only when using Qwen models with vLLM backend or GLM4-chat models without vLLM backend"
for every other engine/family (the Transformers engine included). Dify's agents always stream, so
without this an agent turn with tools fails on those servers. The refusal is remembered per server +
model for a while, so later turns go straight to the blocking call instead of paying twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from dify_plugin.errors.model import InvokeBadRequestError

from models._xinference.client import XinferenceClient
from models._xinference.errors import HTTPStatusError
from models._xinference.process_state import TTLMap, on_reset
from models.llm.reply import Reply, TokenCounts, chat_reply
from models.llm.stream import ChatStream
from models.llm.tool_markup import ToolCall, ToolSchemas

logger = logging.getLogger(__name__)

_REFUSAL = "streaming support for tool calls"  # the words every 1.x release uses in that 400

MemoKey = tuple[str, str]  # (server_url, model_uid)


def refuses_streamed_tools(err: Exception) -> bool:
    """Is this the server's 400 for 'stream + tools is not supported by this model/engine'?"""
    if not isinstance(err, HTTPStatusError) or err.status_code != 400:
        return False
    return _REFUSAL in str(err.detail).lower()


class RefusalMemo:
    """Which server + model refused streamed tools, for `ttl` seconds (the server may be upgraded),
    at most `size` of them (a plugin process may serve many servers and uids)."""

    def __init__(self, ttl: float = 600.0, size: int = 256, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self._refused = TTLMap(max_entries=size, clock=clock)

    def remember(self, key: MemoKey) -> None:
        self._refused.put(key, True, self.ttl)

    def knows(self, key: MemoKey) -> bool:
        return self._refused.get(key, False)

    def clear(self) -> None:
        self._refused.clear()


STREAMED_TOOLS_REFUSED = RefusalMemo()
on_reset(STREAMED_TOOLS_REFUSED.clear)


class ReplyStream:
    """A blocking `Reply` behind the interface the streaming path reads from an `AnswerStream`."""

    def __init__(self, reply: Reply) -> None:
        self._reply = reply
        self.tool_calls: list[ToolCall] = reply.tool_calls

    def __iter__(self) -> Iterator[str]:
        if self._reply.text:
            yield self._reply.text

    @property
    def text(self) -> str:
        return self._reply.text

    @property
    def finish_reason(self) -> str:
        if self.tool_calls:
            return "tool_calls"
        return self._reply.finish_reason or "stop"

    @property
    def tokens(self) -> TokenCounts:
        return self._reply.tokens

    def close(self) -> None:
        pass  # the blocking answer was read whole


def blocking_body(body: dict[str, Any]) -> dict[str, Any]:
    """The same request, not streamed."""
    plain = {k: v for k, v in body.items() if k != "stream_options"}
    plain["stream"] = False
    return plain


def open_chat_stream(
    client: XinferenceClient,
    path: str,
    body: dict[str, Any],
    *,
    what: str,
    tools: ToolSchemas | None,
    expect_reasoning: bool = False,
) -> ChatStream | ReplyStream:
    """The chat answer as a stream; a known or new refusal of streamed tools becomes a blocking call.
    Called inside `_invoke`, so every error here still goes through the SDK's error mapping."""
    key: MemoKey = (client.credentials.server_url, client.credentials.model_uid)
    tools_sent = tools is not None
    if tools_sent and STREAMED_TOOLS_REFUSED.knows(key):
        return _blocking(client, path, body, what, tools=tools, expect_reasoning=expect_reasoning)
    try:
        events = client.stream_events(path, body, what=what, require_done=True)
    except InvokeBadRequestError as err:
        if not (tools_sent and refuses_streamed_tools(err)):
            raise
        logger.info(
            "%s: the server refuses streamed tool calls; answering with one blocking call (remembered "
            "for %.0f s)",
            what,
            STREAMED_TOOLS_REFUSED.ttl,
        )
        STREAMED_TOOLS_REFUSED.remember(key)
        return _blocking(client, path, body, what, tools=tools, expect_reasoning=expect_reasoning)
    return ChatStream(events, tools=tools, expect_reasoning=expect_reasoning)


def _blocking(
    client: XinferenceClient,
    path: str,
    body: dict[str, Any],
    what: str,
    *,
    tools: ToolSchemas | None,
    expect_reasoning: bool,
) -> ReplyStream:
    data = client.post_json(path, blocking_body(body), what=what)
    return ReplyStream(chat_reply(data, what, tools=tools, expect_reasoning=expect_reasoning))
