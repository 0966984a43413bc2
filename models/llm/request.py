"""One invocation's request: its path, its body for /v1/chat/completions or /v1/completions, and the
structured output it asks for (structured_output.py shapes the body and later reads the answer).

Only what the user set is sent: an unset parameter is left out so the model's own defaults apply
(the engine fills sampling defaults, and without max_tokens it may use the rest of the context).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from dify_plugin.entities.model.llm import LLMMode
from dify_plugin.entities.model.message import PromptMessage, PromptMessageTool
from dify_plugin.errors.model import InvokeBadRequestError

from models.llm import guided_json
from models.llm.messages import chat_messages, completion_prompt, tools_json
from models.llm.parameters import EXTRA_BODY_PARAMETER, SAMPLING_RULES, THINKING_PARAMETER
from models.llm.reasoning_request import reasoning_effort_kwargs
from models.llm.schema import LLMProfile
from models.llm.structured_output import STRUCTURED_OUTPUT_PARAMETERS, StructuredOutput, structured_output
from models.llm.tool_calls import tool_choice_from, tool_choice_json

# Every sampling rule of the schema, passed through unchanged when set; both endpoints accept them
# under these (Xinference's) names.
_SAMPLING = tuple(rule[0] for rule in SAMPLING_RULES)
# What the extra body may not replace: the request itself. (stream_options belongs to `stream`: the
# plugin needs the usage frame it asks for.)
_RESERVED = ("model", "messages", "prompt", "stream", "stream_options", "tools")
_DEFAULT_SCHEMA_NAME = "response"


class Request(NamedTuple):
    path: str
    what: str  # how errors name the call
    body: dict[str, Any]
    structured: StructuredOutput | None


def build_request(
    uid: str,
    profile: LLMProfile,
    prompt_messages: Sequence[PromptMessage],
    parameters: Mapping[str, Any],
    *,
    tools: Sequence[PromptMessageTool] | None,
    stop: Sequence[str] | None,
    stream: bool,
    tool_choice: Any,
) -> Request:
    """One invocation's request. structured_output.py is read only when the request carries its
    parameters (Dify sets them only when structured output is on)."""
    if profile.mode is not LLMMode.CHAT:
        prompt = completion_prompt(prompt_messages, tools)
        body = completion_body(uid, prompt, parameters, stop=stop, stream=stream)
        return Request("/v1/completions", f"completion with model {uid!r}", body, None)
    what = f"chat with model {uid!r}"
    messages = chat_messages(prompt_messages, profile)
    choice = tool_choice_from(tool_choice, parameters)
    body = chat_body(
        uid, messages, parameters, profile, tools=tools, stop=stop, stream=stream, tool_choice=choice
    )
    asked = any(parameters.get(name) is not None for name in STRUCTURED_OUTPUT_PARAMETERS)
    structured = structured_output(parameters, profile) if asked else None
    if structured:
        body = structured.shape_body(body | {"messages": structured.instruct(messages)})
    return Request("/v1/chat/completions", what, body, structured)


def chat_body(
    uid: str,
    messages: list[dict[str, Any]],
    parameters: Mapping[str, Any],
    profile: LLMProfile,
    *,
    tools: Sequence[PromptMessageTool] | None,
    stop: Sequence[str] | None,
    stream: bool,
    tool_choice: Any = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"model": uid, "messages": messages, **_common(parameters, stop, stream)}
    if tools:
        body["tools"] = tools_json(tools)
        if (choice := tool_choice_json(tool_choice, [t.name for t in tools])) is not None:
            body["tool_choice"] = choice
    if (response_format := _response_format(parameters)) is not None:
        body["response_format"] = guided_json.for_engine(response_format, profile.engine)
    thinking = parameters.get(THINKING_PARAMETER)
    if isinstance(thinking, bool):  # unset: say nothing, so the launch default holds
        if profile.thinking_top_level:
            body["enable_thinking"] = thinking
        else:
            body["chat_template_kwargs"] = {"enable_thinking": thinking}
    if effort := reasoning_effort_kwargs(profile.family, parameters):
        body["chat_template_kwargs"] = body.get("chat_template_kwargs", {}) | effort
    return with_extra_body(body, parameters)


def completion_body(
    uid: str, prompt: str, parameters: Mapping[str, Any], *, stop: Sequence[str] | None, stream: bool
) -> dict[str, Any]:
    # No response_format and no thinking switch here: /v1/completions has neither.
    return with_extra_body({"model": uid, "prompt": prompt, **_common(parameters, stop, stream)}, parameters)


def with_extra_body(body: dict[str, Any], parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Merge the "extra request body" parameter under the body: engine options (chat_template_kwargs,
    guided_json …) that have no parameter of their own. What the plugin sets itself wins, and an object
    both set (chat_template_kwargs next to the thinking switch) is merged one level deep."""
    extra = _extra_body(parameters.get(EXTRA_BODY_PARAMETER))
    merged = dict(extra)
    for key, value in body.items():
        if isinstance(value, dict) and isinstance(extra.get(key), dict):
            merged[key] = {**extra[key], **value}
        else:
            merged[key] = value
    return merged


def _extra_body(text: Any) -> dict[str, Any]:
    label = "the Extra request body parameter"
    if text is None or (isinstance(text, str) and not text.strip()):
        return {}
    if not isinstance(text, str):
        raise InvokeBadRequestError(f"{label} must be a JSON object written as text")
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InvokeBadRequestError(f"{label} is not valid JSON ({exc}); write one JSON object") from None
    if not isinstance(value, dict):
        raise InvokeBadRequestError(f"{label} must be a JSON object {{…}}, not {type(value).__name__}")
    reserved = sorted(k for k in value if k in _RESERVED)
    if reserved:
        raise InvokeBadRequestError(
            f"{label} cannot set {', '.join(reserved)}: the plugin builds those from the conversation and "
            "the model settings; remove them from the extra body"
        )
    return value


def _common(parameters: Mapping[str, Any], stop: Sequence[str] | None, stream: bool) -> dict[str, Any]:
    body = {name: parameters[name] for name in _SAMPLING if parameters.get(name) is not None}
    if stop:
        body["stop"] = list(stop)
    body["stream"] = stream
    if stream:
        body["stream_options"] = {"include_usage": True}
    return body


def _response_format(parameters: Mapping[str, Any]) -> dict[str, Any] | None:
    kind = parameters.get("response_format")
    schema_text = parameters.get("json_schema")
    if kind is None and schema_text:
        kind = "json_schema"  # a schema alone (Dify's structured output always sets both) means this
    if kind is None:
        return None
    if kind in ("text", "json_object"):
        return {"type": kind}
    if kind != "json_schema":
        raise InvokeBadRequestError(f"response_format {kind!r} is not one of text, json_object, json_schema")
    return {"type": "json_schema", "json_schema": _json_schema(schema_text)}


def _json_schema(text: Any) -> dict[str, Any]:
    """Xinference needs {"name", "schema"[, "strict"]}; accept that shape or a bare JSON Schema."""
    if not isinstance(text, str) or not text.strip():
        raise InvokeBadRequestError("response_format json_schema needs a schema in the JSON Schema parameter")
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InvokeBadRequestError(f"the JSON Schema parameter is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InvokeBadRequestError("the JSON Schema parameter must be a JSON object")
    if isinstance(value.get("schema"), dict):
        wrapped = dict(value)
        if not isinstance(wrapped.get("name"), str) or not wrapped["name"]:
            wrapped["name"] = _DEFAULT_SCHEMA_NAME
        return wrapped
    return {"name": _DEFAULT_SCHEMA_NAME, "schema": value}


def blocking_body(body: dict[str, Any]) -> dict[str, Any]:
    """The same request, not streamed (for a server that refuses streamed tools)."""
    plain = {k: v for k, v in body.items() if k != "stream_options"}
    plain["stream"] = False
    return plain
