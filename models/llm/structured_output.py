"""Structured output on every chat model: enforced by the engine where it can, by instruction elsewhere.

Dify's LLM node (graphon after 0.7) refuses structured output for a model whose schema lacks
STRUCTURED_OUTPUT, so every chat model declares it, and Dify validates the answer against the
JSON Schema itself. What Xinference does with `response_format` (read in its source, 1.17.1 …
4.1.0): the vLLM, SGLang and llama.cpp engines enforce it by guided decoding; MLX enforces it from
4.x; the Transformers engine never reads it (its generate config drops unknown keys). So:

- enforced (vLLM, SGLang, llama.cpp, or the *Structured output* override says the server enforces
  it): `response_format` is sent and the answer passed on as it is;
- instructed (everything else): the schema goes into the system message, the request is made
  blocking, and the answer is reduced to its JSON: reasoning and code fences removed, the first
  JSON value taken. `response_format` is still sent except to the Transformers engine, so an engine
  that does enforce it (MLX on 4.x, or an engine a pre-3.1 server does not name) still does.

An answer with no valid JSON, or not of the schema's top-level type, or missing a top-level
required key, is an InvokeBadRequestError that quotes the answer. There is no repair request: on
the real Transformers server a second attempt costs as much as the first (measured in the README),
an answer from a model that ignored the instruction rarely improves by asking again, and Dify's
node-level retry is the operator's switch for that. Full Draft 7 validation is Dify's: the plugin's
runtime dependencies carry no JSON Schema validator, so only the top level is checked here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from dify_plugin.errors.model import InvokeBadRequestError

from models.llm.answers import Reply
from models.llm.reasoning import without_reasoning
from models.llm.schema import LLMProfile

_FENCE = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\n?(.*?)```", re.DOTALL)
_TYPES: dict[str, tuple[type, ...]] = {"object": (dict,), "array": (list,)}
_ENGINES_IGNORING_RESPONSE_FORMAT = frozenset({"transformers"})
STRUCTURED_OUTPUT_PARAMETERS = ("response_format", "json_schema")  # Dify's; a request without them asks none


@dataclass(frozen=True)
class StructuredOutput:
    """What one request asked for: any JSON object (`schema` None), or JSON following `schema`."""

    schema: dict[str, Any] | None
    instructed: bool  # the plugin asks in the prompt and extracts the JSON from the answer
    send_response_format: bool

    def instruct(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The messages with the instruction at the end of the leading system message."""
        if not self.instructed:
            return messages
        text = _instruction(self.schema)
        if messages and messages[0]["role"] == "system" and isinstance(messages[0].get("content"), str):
            first = messages[0] | {"content": f"{messages[0]['content']}\n\n{text}".strip()}
            return [first, *messages[1:]]
        return [{"role": "system", "content": text}, *messages]

    def shape_body(self, body: dict[str, Any]) -> dict[str, Any]:
        if self.send_response_format:
            return body
        return {k: v for k, v in body.items() if k != "response_format"}

    def extract(self, reply: Reply, what: str) -> Reply:
        """The reply reduced to its JSON text (a reply with tool calls is left as it is)."""
        if not self.instructed or reply.tool_calls:
            return reply
        value, source = _find_json(reply.text)
        if source is None:
            raise _unusable(what, reply.text, "it holds no valid JSON")
        problem = _top_level_problem(value, self.schema)
        if problem:
            raise _unusable(what, reply.text, problem)
        return replace(reply, text=source)


def structured_output(parameters: Mapping[str, Any], profile: LLMProfile) -> StructuredOutput | None:
    """The structured output a request asks for (Dify sets response_format and json_schema), or None."""
    kind = parameters.get("response_format")
    schema_text = parameters.get("json_schema")
    if kind is None and schema_text:
        kind = "json_schema"
    if kind not in ("json_object", "json_schema"):
        return None  # "text", unset; an unknown kind is refused by the request builder
    schema = _schema(schema_text) if kind == "json_schema" else None
    instructed = not profile.schema_enforced
    ignores = profile.engine in _ENGINES_IGNORING_RESPONSE_FORMAT
    return StructuredOutput(schema, instructed, send_response_format=not (instructed and ignores))


def _schema(text: str) -> dict[str, Any]:
    # The request builder (request.py) has already refused a json_schema that is missing, not JSON, or not
    # a JSON object: here it is {"name", "schema"} or the bare schema.
    value = json.loads(text)
    wrapped = value.get("schema")
    return wrapped if isinstance(wrapped, dict) else value


def _instruction(schema: dict[str, Any] | None) -> str:
    if schema is None:
        return "Answer with one JSON object and nothing else: no explanation, no code fences."
    return (
        "Answer with one JSON value and nothing else: no explanation, no code fences. "
        "It must validate against this JSON Schema:\n" + json.dumps(schema, ensure_ascii=False)
    )


def _find_json(text: str) -> tuple[Any, str | None]:
    """The first JSON object or array in the answer, after its reasoning; (None, None) if there is none."""
    answer = without_reasoning(text).strip()
    candidates = [m.group(1).strip() for m in _FENCE.finditer(answer)] + [answer]
    decoder = json.JSONDecoder()
    for candidate in candidates:
        for start, char in enumerate(candidate):
            if char not in "{[":
                continue
            try:
                value, end = decoder.raw_decode(candidate, start)
            except ValueError:
                continue
            return value, candidate[start:end]
    return None, None


def _top_level_problem(value: Any, schema: dict[str, Any] | None) -> str | None:
    if schema is None:  # _find_json finds an object or an array
        return None if isinstance(value, dict) else "it is a JSON array, not an object"
    wanted = schema.get("type")
    if isinstance(wanted, str) and wanted in _TYPES and not isinstance(value, _TYPES[wanted]):
        return f"it is a JSON {_json_type(value)}, but the schema asks for an {wanted}"
    required = schema.get("required")
    if isinstance(value, dict) and isinstance(required, list):
        missing = [key for key in required if isinstance(key, str) and key not in value]
        if missing:
            return f"the required key(s) {', '.join(missing)} are missing"
    return None


def _json_type(value: Any) -> str:
    return "object" if isinstance(value, dict) else "array"  # _find_json finds nothing else


def _unusable(what: str, answer: str, problem: str) -> InvokeBadRequestError:
    shown = answer.strip().replace("\n", " ")
    shown = shown if len(shown) <= 200 else shown[:200] + "…"
    return InvokeBadRequestError(
        f"{what}: structured output failed: {problem}. This engine cannot enforce a JSON Schema, so the "
        f"plugin asked for JSON in the prompt and the model answered {shown!r}. Use a model that follows "
        "instructions better, a lower temperature, or an engine that enforces schemas (vLLM, SGLang, "
        "llama.cpp)."
    )
