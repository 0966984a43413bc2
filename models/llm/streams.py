"""Streamed answers (the `Answer` protocol of answers.py): text is handed on as it arrives, the rest is
settled when the stream ends.

Iterating a `CompletionStream` or `ChatStream` yields the text to show, chunk by chunk (reasoning
wrapped in `<think>` tags, tool-call markup taken out). Once it is exhausted, `tool_calls`,
`finish_reason` and `tokens` describe the whole answer. It reads to the end of the stream (`[DONE]`,
or EOF for /v1/completions) and never stops at the first finish_reason: Xinference may send more
chunks after one (a late usage frame, further tool calls, or 4.1's extra `stop` frame after `length`).
Errors in the stream (an in-band error event, a cut connection) come from EventStream already typed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from models._xinference.stream import EventStream
from models.llm.answers import TokenCounts, settled_finish_reason, text, token_counts
from models.llm.reasoning import InlineThink, ThinkWrapper
from models.llm.tool_calls import ToolCall, ToolCallAssembler, ToolMarkupFilter, ToolSchemas


class CompletionStream:
    """A /v1/completions stream: `choices[].text` pieces (and the base of the chat stream)."""

    def __init__(self, events: EventStream) -> None:
        self._events = events
        self._finish_reason: str | None = None
        self._usage: Any = None
        self._usage_settled = False
        self._shown: list[str] = []  # everything yielded, for a token estimate when no usage comes
        self.tool_calls: list[ToolCall] = []

    def __iter__(self) -> Iterator[str]:
        try:
            for event in self._events:
                self._take_usage(event)
                for choice in event.get("choices") or []:
                    if isinstance(choice, dict):
                        yield from self._show(self._piece(choice))
                        self._finish(choice.get("finish_reason"))
                self._settle_usage(event.get("usage"))
            yield from self._show(self._end())
        finally:
            self.close()

    def close(self) -> None:
        self._events.close()

    @property
    def finish_reason(self) -> str:
        return settled_finish_reason(self.tool_calls, self._finish_reason)

    @property
    def text(self) -> str:
        return "".join(self._shown)

    @property
    def tokens(self) -> TokenCounts:
        return token_counts(self._usage)

    def _piece(self, choice: dict[str, Any]) -> str:
        return text(choice.get("text"))

    def _end(self) -> str:
        return ""

    def _take_usage(self, event: dict[str, Any]) -> None:
        """The last usage the server sent, except from a repeated finishing frame: Xinference 1.x–3.2
        follow the finishing frame (with include_usage) by one more with finish_reason "stop" whose
        counts are off (17 for a 4-token answer). A usage-only frame (no choices, OpenAI style) counts."""
        usage = event.get("usage")
        if isinstance(usage, dict) and not (self._usage_settled and event.get("choices")):
            self._usage = usage

    def _settle_usage(self, usage: Any) -> None:
        if isinstance(usage, dict) and self._finish_reason is not None:
            self._usage_settled = True  # the finishing frame's counts

    def _finish(self, reason: Any) -> None:
        # The first reason counts: Xinference 4.1 follows "length" with a bare "stop" frame.
        if self._finish_reason is None and isinstance(reason, str) and reason:
            self._finish_reason = reason

    def _show(self, piece: str) -> Iterator[str]:
        if piece:
            self._shown.append(piece)
            yield piece


class ChatStream(CompletionStream):
    """A /v1/chat/completions stream: content, reasoning_content and tool_calls deltas."""

    def __init__(self, events: EventStream, *, tools: ToolSchemas | None, expect_reasoning: bool) -> None:
        super().__init__(events)
        self._think = ThinkWrapper()
        self._inline = InlineThink(expect_reasoning=expect_reasoning)
        self._calls = ToolCallAssembler()
        # Only with tools: otherwise "<tool_call>" in an answer is just text.
        self._markup = ToolMarkupFilter(tools) if tools is not None else None

    def _piece(self, choice: dict[str, Any]) -> str:
        delta = choice.get("delta")
        if not isinstance(delta, dict):
            return ""
        call_deltas = delta.get("tool_calls")
        for call in call_deltas if isinstance(call_deltas, list) else []:
            self._calls.add(call)
        content = text(delta.get("content"))
        reasoning = text(delta.get("reasoning_content")) or text(delta.get("reasoning"))
        if reasoning:  # the server splits reasoning out: content holds no think block
            content = self._inline.passthrough() + content
        elif content:
            reasoning, content = self._inline.feed(content)
        return self._show_parts(reasoning, content, ends_reasoning=bool(call_deltas))

    def _show_parts(self, reasoning: str, content: str, *, ends_reasoning: bool) -> str:
        if content and self._markup:
            content = self._markup.feed(content)
        return self._think.feed(reasoning, content, ends_reasoning=ends_reasoning)

    def _end(self) -> str:
        shown = self._show_parts(*self._inline.close(), ends_reasoning=True)  # the block ends with the answer
        rest = self._markup.flush() if self._markup else ""
        self.tool_calls = self._calls.complete() + (self._markup.calls if self._markup else [])
        return shown + rest
