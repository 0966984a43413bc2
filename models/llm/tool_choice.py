"""`tool_choice`: forwarded to Xinference when Dify sends one, dropped (with a log line) where refused.

The plugin daemon carries `tool_choice` on invoke_llm since langgenius/dify-plugin-daemon#807
(`{"mode": "auto" | "none" | "required" | "tool", "name": …}`); dify_plugin 0.10.2 (our lock) does
not pass it on yet. So it is read defensively from wherever a Dify/SDK release puts it: a
`tool_choice` keyword of `_invoke` or a `tool_choice` model parameter, in the daemon's shape or
OpenAI's ("auto" / "none" / "required" / {"type": "function", "function": {"name": …}}).

What Xinference does with it (4.1.0 source): vLLM and SGLang enforce "required" and a named tool
by guided decoding; MLX too; the Transformers engine ignores it (its generate config drops unknown
keys), except the GLM4 chat path which reads it. A server or engine that refuses it answers with an
error naming `tool_choice` ("Forced tool_choice is not supported by the … engine"): the plugin
then repeats the request once without it and logs that it did.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from dify_plugin.errors.model import InvokeError

from models._xinference.errors import HTTPStatusError

logger = logging.getLogger(__name__)

TOOL_CHOICE_PARAMETER = "tool_choice"
_MODES = ("auto", "none", "required")


def tool_choice_json(value: Any, tool_names: list[str]) -> str | dict[str, Any] | None:
    """OpenAI's form of what Dify sent, or None (nothing sent, nothing to send, or no tools)."""
    if not tool_names or value is None:
        return None  # without tools, OpenAI-style servers refuse any tool_choice
    if hasattr(value, "model_dump"):  # an SDK entity, whatever its class
        value = value.model_dump()
    if isinstance(value, str):
        mode, name = (value, None) if value in _MODES else ("tool", value)
    elif isinstance(value, Mapping):
        function = value.get("function")
        if value.get("type") == "function" and isinstance(function, Mapping):
            mode, name = "tool", function.get("name")
        else:
            mode, name = value.get("mode") or value.get("type"), value.get("name")
    else:
        return None
    if mode in _MODES:
        return mode
    return _named(name, tool_names) if mode == "tool" else None


def _named(name: Any, tool_names: list[str]) -> dict[str, Any] | None:
    if not isinstance(name, str) or name not in tool_names:
        logger.warning("tool_choice names %r, which is not among the tools sent; not forwarded", name)
        return None
    return {"type": "function", "function": {"name": name}}


def tool_choice_from(kwarg: Any, parameters: Mapping[str, Any]) -> Any:
    return kwarg if kwarg is not None else parameters.get(TOOL_CHOICE_PARAMETER)


def refuses_tool_choice(err: Exception) -> bool:
    """Did the server refuse the request because of its tool_choice?"""
    return (
        isinstance(err, HTTPStatusError)
        and err.status_code in (400, 422, 500, 501)
        and "tool_choice" in str(err.detail).lower()
    )


def without_tool_choice(body: dict[str, Any], what: str, err: Exception) -> dict[str, Any]:
    logger.warning(
        "%s: the server refused tool_choice %r (%s); sending the request again without it",
        what,
        body.get("tool_choice"),
        str(getattr(err, "detail", err))[:200],
    )
    return {k: v for k, v in body.items() if k != "tool_choice"}


def send_with_tool_choice[T](send: Callable[[dict[str, Any]], T], body: dict[str, Any], what: str) -> T:
    """`send(body)`; if the server refuses its tool_choice, once more without it."""
    try:
        return send(body)
    except InvokeError as err:
        if "tool_choice" not in body or not refuses_tool_choice(err):
            raise
        return send(without_tool_choice(body, what, err))
