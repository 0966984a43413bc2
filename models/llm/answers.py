"""Answers: what the server said, read into one shape whether it came whole or streamed.

`Answer` is the protocol llm.py reads: iterating it yields the text to show (reasoning wrapped in
`<think>` tags, tool-call markup taken out); once iterated, `tool_calls`, `finish_reason` and `tokens`
describe the whole answer. A blocking `Reply` (here) satisfies it by yielding its text once; the two
streams (streams.py) satisfy it piece by piece. The finish-reason rule is written once, here.
Also here: usage counts (-1 means unknown) and the Dify result objects built from an answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from dify_plugin.entities.model.llm import LLMResult, LLMResultChunk, LLMResultChunkDelta, LLMUsage
from dify_plugin.entities.model.message import AssistantPromptMessage

from models._xinference.errors import bad_response
from models.llm.reasoning import split_inline_think, wrap_reasoning
from models.llm.tool_calls import ToolCall, ToolCallAssembler, ToolSchemas, extract_tool_calls

TokenCounts = tuple[int | None, int | None]  # (prompt, completion); None = the server did not say


class Answer(Protocol):
    tool_calls: list[ToolCall]

    def __iter__(self) -> Iterator[str]: ...
    def close(self) -> None: ...
    @property
    def text(self) -> str: ...
    @property
    def finish_reason(self) -> str: ...
    @property
    def tokens(self) -> TokenCounts: ...


def settled_finish_reason(tool_calls: list[ToolCall], reported: str | None) -> str:
    """Why the answer ended: "tool_calls" whenever it made calls (servers that leave the calls as markup
    say "stop"), else the first reason the server gave (4.1 follows "length" with a bare "stop" frame),
    else "stop"."""
    if tool_calls:
        return "tool_calls"
    return reported or "stop"


@dataclass
class Reply:
    """A blocking answer of /v1/chat/completions or /v1/completions."""

    text: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    reported_finish_reason: str | None = None
    tokens: TokenCounts = (None, None)

    def __iter__(self) -> Iterator[str]:
        if self.text:
            yield self.text

    def close(self) -> None:
        pass  # read whole already

    @property
    def finish_reason(self) -> str:
        return settled_finish_reason(self.tool_calls, self.reported_finish_reason)


def token_counts(usage: Any) -> TokenCounts:
    if not isinstance(usage, dict):
        return None, None
    return _count(usage.get("prompt_tokens")), _count(usage.get("completion_tokens"))


def _count(value: Any) -> int | None:
    # Some engines (omni models, …) report -1 for "not measured".
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def chat_reply(data: Any, what: str, *, tools: ToolSchemas | None, expect_reasoning: bool) -> Reply:
    choice = _first_choice(data, what)
    message = choice.get("message")
    if not isinstance(message, dict):
        raise bad_response(what, "the choice has no message")
    content = text(message.get("content"))
    calls = ToolCallAssembler()
    for call in message.get("tool_calls") or []:
        calls.add(call)
    tool_calls = calls.complete()
    reasoning = text(message.get("reasoning_content")) or text(message.get("reasoning"))
    if not reasoning:
        reasoning, content = split_inline_think(content, expect_reasoning=expect_reasoning)
    if tools is not None and not tool_calls:
        content, tool_calls = extract_tool_calls(content, tools)
    return Reply(
        text=wrap_reasoning(reasoning, content),
        tool_calls=tool_calls,
        reported_finish_reason=choice.get("finish_reason"),
        tokens=token_counts(data.get("usage")),
    )


def completion_reply(data: Any, what: str) -> Reply:
    choice = _first_choice(data, what)
    return Reply(
        text=text(choice.get("text")),
        reported_finish_reason=choice.get("finish_reason"),
        tokens=token_counts(data.get("usage")),
    )


def _first_choice(data: Any, what: str) -> dict[str, Any]:
    choices = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise bad_response(what, "the answer has no choices")
    return choices[0]


# ---- Dify's result objects ----------------------------------------------------------------------

# Self-hosted models have no price: every price field is 0. The SDK's `_calc_response_usage` would look
# the model schema up twice per call only to find no pricing; this builds the same object directly.
_ZERO = Decimal(0)


def llm_usage(prompt_tokens: int, completion_tokens: int, latency: float) -> LLMUsage:
    return LLMUsage(
        prompt_tokens=prompt_tokens,
        prompt_unit_price=_ZERO,
        prompt_price_unit=_ZERO,
        prompt_price=_ZERO,
        completion_tokens=completion_tokens,
        completion_unit_price=_ZERO,
        completion_price_unit=_ZERO,
        completion_price=_ZERO,
        total_tokens=prompt_tokens + completion_tokens,
        total_price=_ZERO,
        currency="USD",
        latency=latency,
    )


class XinferenceLLMResult(LLMResult):
    """LLMResult has no finish_reason, and the SDK turns it into one chunk without one: keep it."""

    finish_reason: str | None = None

    def to_llm_result_chunk(self) -> LLMResultChunk:
        chunk = super().to_llm_result_chunk()
        chunk.delta.finish_reason = self.finish_reason
        return chunk


def result_chunk(
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
