"""Wrap `reasoning_content` into Dify's `<think>\\n…\\n</think>` form, chunk by chunk.

Dify shows reasoning that arrives inside `<think>` tags in `content`. The SDK's
`_wrap_thinking_by_reasoning_content` adds "<think>\\n" and "\\n</think>" around the reasoning as it
is; Xinference keeps the model's own newlines inside the tags ("\\nThe user greets me.\\n"), so that
would read "<think>\\n\\nThe user greets me.\\n\\n</think>". This wrapper drops one newline at the start
of the reasoning and one at its end. Trailing newlines are held back until it is known whether more
reasoning follows (then they are kept) or the reasoning ended (then one is dropped), so the result
is the same however the text was split into chunks. Content passes through untouched, including
`<think>` tags a model writes inline.
"""

from __future__ import annotations

OPEN_TAG = "<think>\n"
CLOSE_TAG = "\n</think>"


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
