"""JSON output under llama.cpp's grammar: the `response_format` the llama.cpp engine can keep to.

Xinference (4.1.0) turns a JSON Schema into an llguidance grammar for its llama.cpp engine. That grammar
lets whitespace run on without limit between JSON tokens, and a small model (the quantised models people
run on CPUs) can then write newlines until max_tokens: the answer is cut off and does not parse (seen on a
real server, tests/fixtures/xinference-4.1.0-llamacpp/llamacpp_09). llguidance's own `x-guidance` option
`whitespace_flexible: false` asks for compact JSON instead (llamacpp_12). Other engines, and formats other
than json_schema, are sent unchanged (the engine ignores `json_object`: llamacpp_13).
"""

from __future__ import annotations

from typing import Any

LLAMA_CPP = "llama.cpp"
_COMPACT = {"whitespace_flexible": False}


def for_engine(response_format: dict[str, Any], engine: str) -> dict[str, Any]:
    """`response_format` as the engine should get it; `engine` is the description's `model_engine`."""
    if engine.lower() != LLAMA_CPP or response_format.get("type") != "json_schema":
        return response_format
    block = response_format["json_schema"]
    schema = block.get("schema")
    if not isinstance(schema, dict) or "x-guidance" in schema:  # the user's own llguidance options win
        return response_format
    return {**response_format, "json_schema": {**block, "schema": {**schema, "x-guidance": _COMPACT}}}
