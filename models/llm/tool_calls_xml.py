"""The Qwen3-Coder / Qwen3.5 tool-call form, inside `<tool_call>`:

    <function=get_weather>
    <parameter=city>
    Paris
    </parameter>
    </function>

Every value arrives as bare text, so its type comes from the tool's JSON schema (integer, number,
boolean, object, array; string otherwise, and for parameters the schema does not name). A value that
does not fit its type is kept as the text it was: the tool then reports it, nothing is dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

_FUNCTION = re.compile(r"^\s*<function=([^>\s]+)>(.*?)(?:</function>\s*)?$", re.DOTALL)
_PARAMETER = re.compile(r"<parameter=([^>\s]+)>(.*?)(?:</parameter>|(?=<parameter=)|$)", re.DOTALL)
_JSON_TYPES = {"integer": int, "number": (int, float), "object": dict, "array": list}


def parse_xml_call(raw: str, schemas: Mapping[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """(name, arguments) of one call, or None when `raw` is not this form."""
    match = _FUNCTION.match(raw)
    if match is None:
        return None
    name, body = match.group(1), match.group(2)
    properties = _properties(schemas.get(name))
    arguments: dict[str, Any] = {}
    for parameter in _PARAMETER.finditer(body):
        key, value = parameter.group(1), _trim(parameter.group(2))
        arguments[key] = typed_value(value, properties.get(key))
    if not arguments and body.strip():
        return None  # text that is neither empty nor parameters: not a call we understand
    return name, arguments


def typed_value(value: str, schema: Any) -> Any:
    """`value` as the first of its schema's types it fits; else (a string, say) the text as it was."""
    for kind in _kinds(schema):
        converted = _convert(value, kind)
        if converted is not _NO:
            return converted
    return value


_NO = object()


def _convert(value: str, kind: str) -> Any:
    text = value.strip()
    if kind == "boolean":
        return {"true": True, "false": False}.get(text.lower(), _NO)
    if kind == "null":
        return None if text.lower() in ("null", "none") else _NO
    parsed = _json(text)
    if kind == "integer" and isinstance(parsed, float) and parsed.is_integer():
        parsed = int(parsed)  # "3.0" for an integer parameter
    wanted = _JSON_TYPES.get(kind)  # None for "string": a string is the text itself
    fits = wanted is not None and not isinstance(parsed, bool) and isinstance(parsed, wanted)
    return parsed if fits else _NO


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return _NO


def _kinds(schema: Any) -> list[str]:
    """The types the schema allows, in its order ("string" converts nothing, so it needs no place)."""
    if not isinstance(schema, Mapping):
        return []
    kind = schema.get("type")
    if isinstance(kind, str):
        return [kind]
    if isinstance(kind, list):
        return [k for k in kind if isinstance(k, str)]
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list):
            return [k for option in options for k in _kinds(option)]
    return []


def _properties(parameters: Any) -> Mapping[str, Any]:
    if isinstance(parameters, Mapping) and isinstance(parameters.get("properties"), Mapping):
        return parameters["properties"]
    return {}


def _trim(value: str) -> str:
    """The template puts each value on its own line: one newline on each side is markup, not value."""
    return value.removeprefix("\n").removesuffix("\n")
