"""Earlier answers' reasoning is not sent back to the model.

Dify stores an answer with its reasoning inside (`<think>\\n…\\n</think>answer`), so every later turn
carries all earlier thinking in the assistant history: wasted context, and models are trained without
it (Qwen3's and R1's own templates drop it). Removed from assistant history messages: every
`<think>…</think>` block (not only the first), a leading `…</think>` whose opening tag the template
wrote, and a `<think>` block left unclosed at the end (an answer cut off while thinking).
Left as they are: assistant messages that carry tool calls, and everything after the last user
message (the turn being answered: an agent's reasoning between its tool calls belongs to it).
"""

from __future__ import annotations

import re
from typing import Any

OPEN, CLOSE = "<think>", "</think>"
_BLOCK = re.compile(r"<think>.*?</think>", re.DOTALL)


def without_reasoning(text: str) -> str:
    """The answer part of a stored assistant message."""
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


def strip_history_reasoning(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`messages` in the OpenAI shape, with earlier plain answers reduced to their answer text."""
    users = [i for i, m in enumerate(messages) if m["role"] == "user"]
    if not users:
        return messages
    last_user = users[-1]
    out = []
    for index, message in enumerate(messages):
        content = message.get("content")
        if (
            index < last_user
            and message["role"] == "assistant"
            and not message.get("tool_calls")
            and isinstance(content, str)
        ):
            out.append(message | {"content": without_reasoning(content)})
        else:
            out.append(message)
    return out
