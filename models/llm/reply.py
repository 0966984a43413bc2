"""Blocking answers of /v1/chat/completions and /v1/completions, read into one `Reply`.

Also the pieces streaming shares: usage counts (-1 means unknown) and assembling tool calls that
arrive as deltas.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from models._xinference.errors import bad_response
from models.llm.inline_think import split_inline_think
from models.llm.think import wrap_reasoning
from models.llm.tool_markup import ToolCall, ToolSchemas, extract_tool_calls, make_tool_call, new_call_id

TokenCounts = tuple[int | None, int | None]  # (prompt, completion); None = the server did not say


@dataclass
class Reply:
    text: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    tokens: TokenCounts = (None, None)


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


def chat_reply(data: Any, what: str, *, tools: ToolSchemas | None, expect_reasoning: bool = False) -> Reply:
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
        finish_reason="tool_calls" if tool_calls else choice.get("finish_reason"),
        tokens=token_counts(data.get("usage")),
    )


def completion_reply(data: Any, what: str) -> Reply:
    choice = _first_choice(data, what)
    return Reply(
        text=text(choice.get("text")),
        finish_reason=choice.get("finish_reason"),
        tokens=token_counts(data.get("usage")),
    )


def _first_choice(data: Any, what: str) -> dict[str, Any]:
    choices = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise bad_response(what, "the answer has no choices")
    return choices[0]


class ToolCallAssembler:
    """Builds whole tool calls from OpenAI-style deltas, whatever the server version sends:

    - v2.2–v3.2.1: each call complete in one delta, `index` always 0, a new `id` per call;
    - newer: a delta with `index`, `id` and `name`, then one with the same `index` and `id` carrying
      the arguments; OpenAI style: `id` only on the first delta, argument fragments by `index`.
    So a delta joins the call with its `id`; without an `id`, the last call with its `index`.
    """

    def __init__(self) -> None:
        self._calls: list[dict[str, str]] = []
        self._by_id: dict[str, dict[str, str]] = {}
        self._by_index: dict[Any, dict[str, str]] = {}

    def add(self, delta: Any) -> None:
        if not isinstance(delta, dict):
            return
        call_id = text(delta.get("id"))
        index = delta.get("index")
        call = self._by_id.get(call_id) if call_id else self._by_index.get(index)
        if call is None:
            call = {"id": call_id or new_call_id(), "name": "", "arguments": ""}
            self._calls.append(call)
            if call_id:
                self._by_id[call_id] = call
        if index is not None:
            self._by_index[index] = call
        function = delta.get("function") if isinstance(delta.get("function"), dict) else {}
        if name := text(function.get("name")):
            call["name"] = name
        arguments = function.get("arguments")
        if isinstance(arguments, dict | list):  # some servers parse them; Dify wants the JSON text
            arguments = json.dumps(arguments, ensure_ascii=False)
        call["arguments"] += text(arguments)

    def complete(self) -> list[ToolCall]:
        """The calls, in order of first appearance; a call that never got a name is no call."""
        return [make_tool_call(c["id"], c["name"], c["arguments"]) for c in self._calls if c["name"]]
