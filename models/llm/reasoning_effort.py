"""The Reasoning effort parameter: which models take one, which levels they know, and how it is sent.

Read from the chat templates in Xinference's catalog (xinference/model/llm/models/*.json in 4.1.0,
llm_family.json in 1.17.1 … 3.2.1):
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

from collections.abc import Mapping
from typing import Any

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
