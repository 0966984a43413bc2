"""Reasoning in the answer: the `<think>` block in every form it arrives in, from the model to Dify.

Dify shows reasoning that arrives inside `<think>` tags in `content`, and stores it so in the history.
- Wrapping (`ThinkWrapper`): `reasoning_content` becomes Dify's `<think>\\n…\\n</think>` form, chunk by
  chunk. The SDK's `_wrap_thinking_by_reasoning_content` adds "<think>\\n" and "\\n</think>" around the
  reasoning as it is; Xinference keeps the model's own newlines inside the tags, so that would read
  "<think>\\n\\nThe user greets me.\\n\\n</think>". The wrapper drops one newline at the start of the
  reasoning and one at its end; trailing newlines are held back until it is known whether more
  reasoning follows, so the result is the same however the text was split into chunks.
- Inline (`InlineThink`): without the server's reasoning parser the block stays in `content`, in three
  shapes: `<think>…</think>answer` (the model opened it), `…</think>answer` (the chat template opened
  it in the prompt: QwQ, R1 distills, some Qwen3 templates), `<think>\\n\\n</think>answer` (an empty
  block some servers leave when thinking is off). It is split off and goes through the same wrapper,
  so Dify gets one well-formed block (or none for an empty one), and tool-call markup inside the
  reasoning is never taken for a call. Streamed text cannot be taken back, so the second shape is
  decided when the content starts: it is read as reasoning only when the model is known to think
  (`expects_reasoning`); a blocking answer is whole, so there the closing tag alone decides. Only a
  possible tag start is ever held back, never the answer.
- Without it (`without_reasoning`): the answer part of a text that holds think blocks, for a stored
  assistant message (reasoning_request.py, which shapes the history sent back) and for an answer whose
  JSON is taken out (structured_output.py).
What the request says about reasoning (earlier reasoning in the history, its replay as
`reasoning_content`, the Reasoning effort) is reasoning_request.py's: it is decided once, before
anything is sent; this module reads the answer as it arrives.
"""

from __future__ import annotations

import re
from typing import Any

from models.llm.tool_calls import OPEN as TOOL_CALL_OPEN
from models.llm.tool_calls import partial_tag_length

OPEN, CLOSE = "<think>", "</think>"
OPEN_TAG, CLOSE_TAG = OPEN + "\n", "\n" + CLOSE  # Dify's form of the block

Pieces = tuple[str, str]  # (reasoning, answer)


# ---- wrapping: reasoning_content -> <think> block ------------------------------------------------


class ThinkWrapper:
    def __init__(self) -> None:
        self._in_reasoning = False  # reasoning has started and the block is not closed yet
        self._at_start = False  # nothing of this block's reasoning seen yet (its first newline is dropped)
        self._opened = False  # "<think>\n" was emitted for this block
        self._held = ""  # trailing newlines not emitted yet

    def feed(self, reasoning: str | None, content: str | None, *, ends_reasoning: bool = False) -> str:
        """Text to show for one delta. `ends_reasoning` closes the block without content (tool calls)."""
        out = self._reasoning(reasoning) if reasoning else ""
        if content or ends_reasoning:
            out += self.close()
        return out + (content or "")

    def close(self) -> str:
        """Call at the end of the answer: closes a block that is still open."""
        if not self._in_reasoning:
            return ""
        self._in_reasoning = False
        out = self._held[1:] + CLOSE_TAG if self._opened else ""
        self._held, self._opened = "", False
        return out

    def _reasoning(self, text: str) -> str:
        if not self._in_reasoning:
            self._in_reasoning, self._at_start = True, True
        if self._at_start:
            self._at_start = False
            text = text.removeprefix("\n")
        body = self._held + text
        shown = body.rstrip("\n")
        self._held = body[len(shown) :]
        if not shown:
            return ""
        if not self._opened:
            self._opened = True
            return OPEN_TAG + shown
        return shown


def wrap_reasoning(reasoning: str | None, content: str | None) -> str:
    """The same for a whole (blocking) answer."""
    wrapper = ThinkWrapper()
    return wrapper.feed(reasoning, None) + wrapper.close() + (content or "")


# ---- inline: a think block written in content ------------------------------------------------


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
        self._held += content  # in the answer state nothing is held: _reasoning hands it all on
        if self._state == "start" and not self._decide():
            return "", ""
        return self._reasoning()

    def close(self) -> Pieces:
        """End of the answer (nothing is fed after it): what is still held back, a possible tag start.
        An unclosed block was all reasoning (as Xinference's parser reads it)."""
        if self._state == "reasoning":
            return self._held, ""
        return "", self._held

    def _decide(self) -> bool:
        """At the start: is this reasoning or the answer? False while it cannot be told yet."""
        text = self._held.lstrip()
        if any(tag.startswith(text) for tag in (OPEN, TOOL_CALL_OPEN)):
            return False  # blank, or a prefix of a tag: wait for more
        if text.startswith(OPEN):
            self._held, self._state = text[len(OPEN) :], "reasoning"
        elif self._expect and not text.startswith(TOOL_CALL_OPEN):
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


# ---- the answer part of a text with think blocks ------------------------------------------

_BLOCK = re.compile(re.escape(OPEN) + ".*?" + re.escape(CLOSE), re.DOTALL)


def without_reasoning(text: str) -> str:
    """The answer part of `text`: every think block, closed or not, removed."""
    if CLOSE not in text and OPEN not in text:
        return text
    first_close, first_open = text.find(CLOSE), text.find(OPEN)
    if first_close >= 0 and (first_open < 0 or first_close < first_open):
        text = text[first_close + len(CLOSE) :]  # "…</think>answer": the prompt opened the block
    text = _BLOCK.sub("", text)
    unclosed = text.find(OPEN)
    if unclosed >= 0:
        text = text[:unclosed]
    return text.strip()
