"""Reasoning on the way to the model: earlier reasoning in the history, and the effort asked for.

reasoning.py reads the think tags of the answer being received; this module shapes what the request
says about reasoning, once per invocation, before anything is sent (messages.py, request.py).

History (`strip_history_reasoning`): earlier answers' reasoning is not sent back to the model (wasted
context; Qwen3's and R1's own templates drop it). Removed from assistant history messages: every
block, a leading `…</think>` whose opening tag the template wrote, and a block left unclosed at the
end. Left as they are: assistant messages that carry tool calls, and everything after the last user
message (an agent's reasoning between its tool calls belongs to the turn being answered).

Replay (`replay_reasoning`): most templates in Xinference's catalog take the kept reasoning inline
(Qwen3/3.5/3.6/3.8, GLM-4.5 … 5.3, MiniMax-M2, Ling, MiniCPM5 split `content` at `</think>` when
`reasoning_content` is absent). Three read it only from the message's `reasoning_content` field
(chat templates in 4.1.0's `model/llm/models/*.json`, the same text in 2.12.0/3.2.1's
`llm_family.json`):
- Kimi-K2.5: the messages after the last plain answer render `<think>{{ reasoning_content }}</think>`
  and `content` as it is (an inline `<think>` would be repeated to the model as answer text);
- seed-oss: tool-call messages render `reasoning_content` in `<seed:think>`; `<think>` is plain text;
- MiniMax-M3: `reasoning_content`, else `content` split at `</mm:think>` (not `</think>`).
For these families every assistant message loses its inline block, and where the history kept the
reasoning it goes into `reasoning_content`; a reasoning the SDK carries in `opaque_body`
(`{"reasoning_content": …}`, as the official DeepSeek plugin stores it) wins. Other models: unchanged.

Effort (`reasoning_effort_kwargs`), read from the chat templates in Xinference's catalog
(xinference/model/llm/models/*.json in 4.1.0, llm_family.json in 1.17.1 … 3.2.1):
- gpt-oss (every release): `Reasoning: {{ reasoning_effort }}` in the system header, default medium.
- qwen3.8, qwen3.8-max, qwen3.8-Flash-Next (4.x): the template raises on anything but xhigh, medium
  and low; 4.1.0's REST layer checks `reasoning_effort` top-level or in chat_template_kwargs (400 on
  another value, 400 when both differ). Dify's "high" is sent as xhigh.
- glm-5.2 (4.x): high, anything else means max. glm-5.3: low or high, anything else means max.
Every one of them reads the value from the template variables, which `chat_template_kwargs` sets on
every release since 1.5.1, so that is how it goes out (top-level `reasoning_effort` reaches the
template only for qwen3.8 on 4.x). Other models get no parameter: their templates ignore the value.
Unset sends nothing, so the template's own default applies.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from dify_plugin.entities.model.message import AssistantPromptMessage

from models.llm.reasoning import CLOSE, OPEN, without_reasoning

# ---- history: earlier answers without their reasoning ---------------------------------------------


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


# ---- replay: kept reasoning as `reasoning_content` for the templates that read only that ----------

_FIELD_ONLY_FAMILIES = frozenset({"kimi-k2.5", "seed-oss", "minimax-m3"})
_FIRST_BLOCK = re.compile(re.escape(OPEN) + "(.*?)" + re.escape(CLOSE), re.DOTALL)
OPAQUE_KEY = "reasoning_content"


def reads_reasoning_field(family: str) -> bool:
    return family.lower() in _FIELD_ONLY_FAMILIES


def opaque_reasoning(message: AssistantPromptMessage) -> str | None:
    """The reasoning an assistant message carries in the SDK's opaque_body, if any."""
    body = message.opaque_body
    value = body.get(OPAQUE_KEY) if isinstance(body, dict) else None
    return value if isinstance(value, str) and value else None


def replay_reasoning(messages: list[dict[str, Any]], family: str) -> list[dict[str, Any]]:
    """`messages` (OpenAI shape, after strip_history_reasoning) as the family's template needs them."""
    if not reads_reasoning_field(family):
        return [_without_field(m) for m in messages]
    return [_to_field(m) if m["role"] == "assistant" else m for m in messages]


def _to_field(message: dict[str, Any]) -> dict[str, Any]:
    content = message.get("content")
    if not isinstance(content, str) or (OPEN not in content and CLOSE not in content):
        return message
    match = _FIRST_BLOCK.search(content)
    reasoning = match.group(1).strip("\n") if match else content.split(CLOSE, 1)[0]
    out = message | {"content": without_reasoning(content)}
    if reasoning.strip() and not out.get("reasoning_content"):
        out["reasoning_content"] = reasoning
    return out


def _without_field(message: dict[str, Any]) -> dict[str, Any]:
    if "reasoning_content" not in message:
        return message
    return {k: v for k, v in message.items() if k != "reasoning_content"}


# ---- effort: the Reasoning effort parameter, per model family --------------------------------------

REASONING_EFFORT_PARAMETER = "reasoning_effort"

_LOW_MEDIUM_HIGH = ("low", "medium", "high")
# family -> (levels shown in Dify, what each level is sent as when it differs)
_FAMILIES: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "gpt-oss": (_LOW_MEDIUM_HIGH, {}),
    "qwen3.8": (_LOW_MEDIUM_HIGH, {"high": "xhigh"}),
    "qwen3.8-max": (_LOW_MEDIUM_HIGH, {"high": "xhigh"}),
    "qwen3.8-flash-next": (_LOW_MEDIUM_HIGH, {"high": "xhigh"}),
    "glm-5.2": (("high", "max"), {}),
    "glm-5.3": (("low", "high", "max"), {}),
}


def reasoning_efforts(family: str) -> tuple[str, ...]:
    """The levels this model family's template reads; () for a model without the parameter."""
    entry = _FAMILIES.get(family.lower())
    return entry[0] if entry else ()


def reasoning_effort_kwargs(family: str, parameters: Mapping[str, Any]) -> dict[str, str]:
    """The chat_template_kwargs entry to send, or {} when unset or the model takes none."""
    value = parameters.get(REASONING_EFFORT_PARAMETER)
    entry = _FAMILIES.get(family.lower())
    if not isinstance(value, str) or not value or entry is None:
        return {}
    levels, wire = entry
    if value not in levels:
        return {}  # a level another model offered (a copied workflow): leave the model's default
    return {"reasoning_effort": wire.get(value, value)}
