"""Earlier reasoning sent back as `reasoning_content`, for the chat templates that read it only there.

Dify keeps an answer's reasoning inline (`<think>\\n…\\n</think>answer`), and history.py leaves it in
the assistant messages of the turn being answered (an agent's tool-call steps). Most templates in
Xinference's catalog take that as it is: Qwen3/3.5/3.6/3.8, GLM-4.5 … 5.3, MiniMax-M2, Ling,
MiniCPM5 split `content` at `</think>` when `reasoning_content` is absent. Three read the previous
reasoning only from the message's `reasoning_content` field (chat templates in 4.1.0's
`model/llm/models/*.json`, the same text in 2.12.0/3.2.1's `llm_family.json`):
- Kimi-K2.5: the messages after the last plain answer render `<think>{{ reasoning_content }}</think>`
  and `content` as it is (an inline `<think>` would be repeated to the model as answer text);
- seed-oss: tool-call messages render `reasoning_content` in `<seed:think>`; `<think>` is plain text;
- MiniMax-M3: `reasoning_content`, else `content` split at `</mm:think>` (not `</think>`).
For these families every assistant message loses its inline block, and where history.py kept the
reasoning it goes into `reasoning_content`; a reasoning the SDK carries in `opaque_body`
(`{"reasoning_content": …}`, as the official DeepSeek plugin stores it) wins. Other models: unchanged.
"""

from __future__ import annotations

import re
from typing import Any

from dify_plugin.entities.model.message import PromptMessage

from models.llm.reasoning import without_reasoning

_FIELD_ONLY_FAMILIES = frozenset({"kimi-k2.5", "seed-oss", "minimax-m3"})
_FIRST_BLOCK = re.compile(r"<think>(.*?)</think>", re.DOTALL)
OPAQUE_KEY = "reasoning_content"


def reads_reasoning_field(family: str) -> bool:
    return family.lower() in _FIELD_ONLY_FAMILIES


def opaque_reasoning(message: PromptMessage) -> str | None:
    """The reasoning an assistant message carries in the SDK's opaque_body, if any."""
    body = getattr(message, "opaque_body", None)
    value = body.get(OPAQUE_KEY) if isinstance(body, dict) else None
    return value if isinstance(value, str) and value else None


def replay_reasoning(messages: list[dict[str, Any]], family: str) -> list[dict[str, Any]]:
    """`messages` (OpenAI shape, after history.py) as the family's template needs them."""
    if not reads_reasoning_field(family):
        return [_without_field(m) for m in messages]
    return [_to_field(m) if m["role"] == "assistant" else m for m in messages]


def _to_field(message: dict[str, Any]) -> dict[str, Any]:
    content = message.get("content")
    if not isinstance(content, str) or ("<think>" not in content and "</think>" not in content):
        return message
    match = _FIRST_BLOCK.search(content)
    reasoning = match.group(1).strip("\n") if match else content.split("</think>", 1)[0]
    out = message | {"content": without_reasoning(content)}
    if reasoning.strip() and not out.get("reasoning_content"):
        out["reasoning_content"] = reasoning
    return out


def _without_field(message: dict[str, Any]) -> dict[str, Any]:
    if "reasoning_content" not in message:
        return message
    return {k: v for k, v in message.items() if k != "reasoning_content"}
