"""Tool calls: assembled from the server's deltas, or recovered from markup left in the text.

- Assembly (`ToolCallAssembler`): OpenAI-style `tool_calls` deltas (streamed) or a message's list
  (blocking) become whole calls, whatever shape the server version sends.
- Markup (`ToolMarkupFilter`): Qwen-style calls left as text, `<tool_call>{"name": …, "arguments": {…}}
  </tool_call>`, or the Qwen3-Coder / Qwen3.5 XML form inside the same tags (`<function=NAME>
  <parameter=P>…`, read by tool_calls_xml.py). Some engines do not run the tool parser on streamed
  output (Xinference 4.1.0's Transformers engine: the markup arrives as `content` pieces and the
  stream ends with finish_reason "stop"). Used only when tools were sent. Text streams on
  immediately; only what could be the start of `<tool_call>` is held back (at most its length minus
  one), and a call's text until its closing tag. A block that is not a valid call is shown as the
  text it was, never dropped.
- Choice (`tool_choice_json`, `send_with_tool_choice`): Dify's `tool_choice` on the way out. The plugin
  daemon carries it on invoke_llm since langgenius/dify-plugin-daemon#807 (`{"mode": "auto" | "none" |
  "required" | "tool", "name": …}`); dify_plugin 0.10.2 (our lock) does not pass it on yet, so it is
  read from a `tool_choice` keyword of `_invoke` or model parameter, in the daemon's shape or OpenAI's.
  Xinference 4.1.0: vLLM, SGLang and MLX enforce "required" and a named tool; the Transformers engine
  ignores it (except GLM4's chat path). A server that refuses it names `tool_choice` in its error
  ("Forced tool_choice is not supported by the … engine"): the request is sent once more without it.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from dify_plugin.entities.model.message import AssistantPromptMessage, PromptMessageTool
from dify_plugin.errors.model import InvokeError

from models._xinference.errors import HTTPStatusError
from models.llm.tool_calls_xml import parse_xml_call

logger = logging.getLogger(__name__)

OPEN = "<tool_call>"
CLOSE = "</tool_call>"

ToolCall = AssistantPromptMessage.ToolCall
ToolSchemas = Mapping[str, Any]  # tool name -> its JSON schema of parameters


def tool_schemas(tools: Sequence[PromptMessageTool] | None) -> ToolSchemas | None:
    """None when no tools were sent: then "<tool_call>" in an answer is only text."""
    if not tools:
        return None
    return {tool.name: tool.parameters for tool in tools}


def new_call_id() -> str:
    return f"call_{uuid.uuid4().hex}"


def make_tool_call(call_id: str | None, name: str, arguments: Any) -> ToolCall:
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments if arguments is not None else {}, ensure_ascii=False)
    return ToolCall(
        id=call_id or new_call_id(),
        type="function",
        function=ToolCall.ToolCallFunction(name=name, arguments=arguments or "{}"),
    )


class ToolMarkupFilter:
    def __init__(self, tools: ToolSchemas | None = None) -> None:
        self._tools = tools or {}
        self.calls: list[ToolCall] = []
        self._buffer = ""
        self._inside = False

    def feed(self, text: str) -> str:
        """Visible text for this piece; completed calls are appended to `calls`."""
        self._buffer += text
        shown: list[str] = []
        while True:
            if not self._inside:
                start = self._buffer.find(OPEN)
                if start < 0:
                    keep = partial_tag_length(self._buffer, OPEN)
                    cut = len(self._buffer) - keep
                    shown.append(self._buffer[:cut])
                    self._buffer = self._buffer[cut:]
                    return "".join(shown)
                shown.append(self._buffer[:start])
                self._buffer = self._buffer[start + len(OPEN) :]
                self._inside = True
            else:
                end = self._buffer.find(CLOSE)
                if end < 0:
                    return "".join(shown)
                shown.append(self._take(self._buffer[:end], closed=True))
                self._buffer = self._buffer[end + len(CLOSE) :]
                self._inside = False

    def flush(self) -> str:
        """End of the answer (nothing is fed after it): a call whose closing tag never came still
        counts if it parses."""
        if self._inside:
            return self._take(self._buffer, closed=False)
        return self._buffer

    def _take(self, raw: str, *, closed: bool) -> str:
        call = parse_call(raw, self._tools)
        if call is None:
            return OPEN + raw + (CLOSE if closed else "")
        self.calls.append(call)
        return ""


def parse_call(raw: str, tools: ToolSchemas | None = None) -> ToolCall | None:
    try:
        value = json.loads(raw)
    except ValueError:
        xml = parse_xml_call(raw, tools or {})
        return make_tool_call(None, *xml) if xml else None
    if not isinstance(value, dict) or not isinstance(value.get("name"), str) or not value["name"]:
        return None
    arguments = value.get("arguments", value.get("parameters"))  # neither: None, sent as "{}"
    return make_tool_call(None, value["name"], arguments)


def extract_tool_calls(text: str, tools: ToolSchemas | None = None) -> tuple[str, list[ToolCall]]:
    """The same for a whole (blocking) answer: (text without the calls, calls)."""
    markup = ToolMarkupFilter(tools)
    shown = markup.feed(text) + markup.flush()
    return shown, markup.calls


def partial_tag_length(text: str, tag: str) -> int:
    """Length of the longest end of `text` that is a proper start of `tag`."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:size]):
            return size
    return 0


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
        call_id = _text(delta.get("id"))
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
        if name := _text(function.get("name")):
            call["name"] = name
        arguments = function.get("arguments")
        if isinstance(arguments, dict | list):  # some servers parse them; Dify wants the JSON text
            arguments = json.dumps(arguments, ensure_ascii=False)
        call["arguments"] += _text(arguments)

    def complete(self) -> list[ToolCall]:
        """The calls, in order of first appearance; a call that never got a name is no call."""
        return [make_tool_call(c["id"], c["name"], c["arguments"]) for c in self._calls if c["name"]]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


# ---- choice: Dify's tool_choice, forwarded where the server takes it ------------------------------

TOOL_CHOICE_PARAMETER = "tool_choice"
_MODES = ("auto", "none", "required")


def tool_choice_from(kwarg: Any, parameters: Mapping[str, Any]) -> Any:
    return kwarg if kwarg is not None else parameters.get(TOOL_CHOICE_PARAMETER)


def tool_choice_json(value: Any, tool_names: list[str]) -> str | dict[str, Any] | None:
    """OpenAI's form of what Dify sent (with tools: chat_body asks only then, as OpenAI-style servers
    refuse a tool_choice without tools), or None: nothing sent, or nothing it could mean."""
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
    return _named_choice(name, tool_names) if mode == "tool" else None


def _named_choice(name: Any, tool_names: list[str]) -> dict[str, Any] | None:
    if not isinstance(name, str) or name not in tool_names:
        logger.warning("tool_choice names %r, which is not among the tools sent; not forwarded", name)
        return None
    return {"type": "function", "function": {"name": name}}


def refuses_tool_choice(err: Exception) -> bool:
    """Did the server refuse the request because of its tool_choice?"""
    return (
        isinstance(err, HTTPStatusError)
        and err.status_code in (400, 422, 500, 501)
        and "tool_choice" in str(err.detail).lower()
    )


def send_with_tool_choice[T](send: Callable[[dict[str, Any]], T], body: dict[str, Any], what: str) -> T:
    """`send(body)`; if the server refuses its tool_choice, once more without it (and a log line)."""
    try:
        return send(body)
    except InvokeError as err:
        if "tool_choice" not in body or not refuses_tool_choice(err):
            raise
        logger.warning(
            "%s: the server refused tool_choice %r (%s); sending the request again without it",
            what,
            body["tool_choice"],
            err.detail[:200],  # refuses_tool_choice: an HTTPStatusError, whose detail is text
        )
        return send({k: v for k, v in body.items() if k != "tool_choice"})
