"""Reasoning written inline in `content`, split off so it is shown like `reasoning_content`.

Without the server's reasoning parser the think block stays in `content`, in three shapes:
- `<think>…</think>answer`: the model opened the block itself;
- `…</think>answer`: the chat template opened it in the prompt (QwQ, R1 distills, some Qwen3
  templates), so the answer starts inside the block and holds only the closing tag;
- `<think>\\n\\n</think>answer`: an empty block some servers leave when thinking is off.
`InlineThink` turns content into (reasoning, answer) pieces; reasoning then goes through the same
ThinkWrapper as `reasoning_content`, so Dify gets one well-formed `<think>\\n…\\n</think>` block (or
none for an empty one) and tool-call markup inside the reasoning is never taken for a call.

Streamed text cannot be taken back, so the second shape is decided when the content starts: it is
read as reasoning only when the model is known to think (`expect_reasoning`: a reasoning model without
a thinking switch, or the switch turned on in this request); a blocking answer is whole, so there the
closing tag alone decides. Only a possible tag start is ever held back, never the answer.
"""

from __future__ import annotations

from typing import Any

from models.llm.tool_markup import partial_tag_length

OPEN, CLOSE = "<think>", "</think>"
_TOOL_CALL = "<tool_call>"  # an answer that starts with a call did not think first

Pieces = tuple[str, str]  # (reasoning, answer)


def expects_reasoning(always_thinks: bool, thinking: Any) -> bool:
    """Will this answer start with reasoning? The request's switch decides; unset, the model's kind."""
    if isinstance(thinking, bool):
        return thinking
    return always_thinks


class InlineThink:
    def __init__(self, *, expect_reasoning: bool) -> None:
        self._expect = expect_reasoning
        self._state = "start"  # start -> reasoning -> answer
        self._held = ""
        self._saw_reasoning = False  # any non-blank reasoning text in this block
        self._trim_answer = False  # after an empty block: drop the whitespace it left before the answer

    def passthrough(self) -> str:
        """The server split the reasoning out itself: content is all answer from here on."""
        if self._state != "start":
            return ""
        self._state, held, self._held = "answer", self._held, ""
        return held

    def feed(self, content: str) -> Pieces:
        if self._state == "answer":
            return "", self._answer(content)
        self._held += content
        if self._state == "start" and not self._decide():
            return "", ""
        return self._reasoning()

    def close(self) -> Pieces:
        """End of the answer. An unclosed block was all reasoning (as Xinference's parser reads it)."""
        held, self._held = self._held, ""
        if self._state == "reasoning":
            self._state = "answer"
            return held, ""
        self._state = "answer"
        return "", held

    def _decide(self) -> bool:
        """At the start: is this reasoning or the answer? False while it cannot be told yet."""
        text = self._held.lstrip()
        if any(tag.startswith(text) for tag in (OPEN, _TOOL_CALL)):
            return False  # blank, or a prefix of a tag: wait for more
        if text.startswith(OPEN):
            self._held, self._state = text[len(OPEN) :], "reasoning"
        elif self._expect and not text.startswith(_TOOL_CALL):
            self._state = "reasoning"
        else:
            self._state = "answer"
        return True

    def _reasoning(self) -> Pieces:
        if self._state == "answer":
            held, self._held = self._held, ""
            return "", self._answer(held)
        end = self._held.find(CLOSE)
        if end < 0:
            keep = partial_tag_length(self._held, CLOSE)
            shown, self._held = self._held[: len(self._held) - keep], self._held[len(self._held) - keep :]
            self._saw_reasoning |= bool(shown.strip())
            return shown, ""
        reasoning, rest = self._held[:end], self._held[end + len(CLOSE) :]
        self._held, self._state = "", "answer"
        self._saw_reasoning |= bool(reasoning.strip())
        self._trim_answer = not self._saw_reasoning
        return reasoning, self._answer(rest)

    def _answer(self, text: str) -> str:
        if self._trim_answer:
            text = text.lstrip()
            self._trim_answer = not text
        return text


def split_inline_think(content: str, *, expect_reasoning: bool) -> Pieces:
    """A whole (blocking) answer: a closing tag anywhere in it means the template opened the block."""
    splitter = InlineThink(expect_reasoning=expect_reasoning or CLOSE in content)
    reasoning, answer = splitter.feed(content)
    tail_reasoning, tail_answer = splitter.close()
    return reasoning + tail_reasoning, answer + tail_answer
