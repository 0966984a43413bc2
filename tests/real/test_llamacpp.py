"""The llama.cpp engine (Xinference's `llama.cpp`, the xllamacpp binding) through the plugin process.

Both tiny models run as GGUF files our converter writes at test time (tools/real_xinference/gguf_convert.py,
llamacpp.py): `gguf_llm` is tiny-qwen2-tools (its template has no `<tool_call>` text, so llama.cpp leaves
the call as markup in the answer), `gguf_reasoning` is tiny-qwen3-reasoning (its template has `<tool_call>`
and `<think>`, from which llama.cpp picks its own tool-call and reasoning parsers), launched with the
reasoning parser on and thinking on by default.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.real.support import (
    HELLO,
    THINK,
    UIDS,
    WEATHER_TOOL,
    credentials,
    llm_text,
    llm_tool_calls,
    llm_usage,
    ok,
)
from tools.console import payloads

pytestmark = pytest.mark.real

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "models"

GREEDY = {"temperature": 0, "max_tokens": 64}
USER = [{"role": "user", "content": "Hello, who are you?"}]
WEATHER = [{"role": "user", "content": "What is the weather like in Paris today?"}]
STREAMS = pytest.mark.parametrize("stream", [False, True], ids=["blocking", "stream"])
# What the structured-output tests ask for: every property required, nothing else allowed.
WEATHER_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "temperature": {"type": "integer"}},
    "required": ["city", "temperature"],
    "additionalProperties": False,
}


def _invoke(plugin, role, messages, *, stream, parameters=None, **kw):
    params = {**GREEDY, **(parameters or {})}
    data = payloads.invoke_llm(
        "my-llm", credentials(UIDS[role]), messages, parameters=params, stream=stream, **kw
    )
    return ok(plugin, data)


def _finish(chunks):
    return [c["delta"].get("finish_reason") for c in chunks if c["delta"].get("finish_reason")]


def _assert_weather_call(calls):
    assert len(calls) == 1, calls
    call = calls[0]
    assert call["type"] == "function" and call["id"]
    assert call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == {"city": "Paris"}
    return call


# ---- chat -------------------------------------------------------------------------------------------
@STREAMS
def test_chat_answer_and_usage_as_the_server_counts(plugin, stream):
    chunks = _invoke(plugin, "gguf_llm", USER, stream=stream)
    assert llm_text(chunks) == HELLO
    assert _finish(chunks) == ["stop"]
    usage = llm_usage(chunks)
    # llama.cpp counts the end-of-turn token in both modes (Transformers: 15 blocking, 16 streamed)
    assert usage["completion_tokens"] == 16
    assert usage["prompt_tokens"] == 19
    assert usage["total_tokens"] == 35
    if stream:
        assert len(chunks) > 2, "a stream should arrive in pieces"
        assert chunks[-1]["delta"].get("usage"), "usage comes with the last chunk"


@STREAMS
def test_max_tokens_ends_with_finish_reason_length(plugin, stream):
    chunks = _invoke(plugin, "gguf_llm", USER, stream=stream, parameters={"max_tokens": 4})
    assert llm_text(chunks) == "Hello!"
    assert _finish(chunks) == ["length"]
    assert llm_usage(chunks)["completion_tokens"] == 4


@STREAMS
def test_stop_word_ends_the_answer_before_it(plugin, stream):
    chunks = _invoke(plugin, "gguf_llm", USER, stream=stream, stop=["tiny"])
    assert llm_text(chunks) == "Hello! I am a "
    assert _finish(chunks) == ["stop"]
    assert llm_usage(chunks)["completion_tokens"] < 16


# ---- tool calls -------------------------------------------------------------------------------------
@STREAMS
def test_tool_call_left_as_markup_by_llamacpp_becomes_a_real_call(plugin, stream):
    # This template has no `<tool_call>` text, so llama.cpp's parser does not recognise the format: the
    # call arrives as markup in `content` with finish_reason "stop". Dify must get a call, no markup.
    chunks = _invoke(plugin, "gguf_llm", WEATHER, stream=stream, tools=[WEATHER_TOOL])
    _assert_weather_call(llm_tool_calls(chunks))
    assert "<tool_call>" not in llm_text(chunks) and "get_weather" not in llm_text(chunks)
    assert _finish(chunks) == ["tool_calls"]
    assert llm_usage(chunks)["prompt_tokens"] > 100  # the tool list was rendered into the prompt


@STREAMS
def test_tool_call_parsed_by_llamacpp_and_the_next_turn(plugin, stream):
    """llama.cpp's own parser (native tool_calls, streamed as argument pieces); then the call and the
    tool's result go back as history and the model answers."""
    chunks = _invoke(
        plugin,
        "gguf_reasoning",
        WEATHER,
        stream=stream,
        tools=[WEATHER_TOOL],
        parameters={"enable_thinking": False},
    )
    call = _assert_weather_call(llm_tool_calls(chunks))
    assert "<tool_call>" not in llm_text(chunks) and "get_weather" not in llm_text(chunks)
    assert _finish(chunks) == ["tool_calls"]
    history = [
        *WEATHER,
        {
            "role": "assistant",
            "content": llm_text(chunks),
            "tool_calls": [payloads.tool_call(call["id"], "get_weather", call["function"]["arguments"])],
        },
        {"role": "tool", "content": '{"temperature": 21, "condition": "sunny"}', "tool_call_id": call["id"]},
    ]
    params = {"enable_thinking": False}
    answer = _invoke(
        plugin, "gguf_reasoning", history, stream=stream, tools=[WEATHER_TOOL], parameters=params
    )
    assert llm_text(answer).strip() == HELLO
    assert llm_tool_calls(answer) == []
    assert llm_usage(answer)["prompt_tokens"] > llm_usage(chunks)["prompt_tokens"]  # the history was sent


# ---- structured output ------------------------------------------------------------------------------
def _assert_weather_json(text: str) -> None:
    """The answer is JSON that follows WEATHER_SCHEMA (checked by hand: no jsonschema package here)."""
    value = json.loads(text)
    assert isinstance(value, dict) and set(value) == {"city", "temperature"}, value
    assert isinstance(value["city"], str)
    assert isinstance(value["temperature"], int) and not isinstance(value["temperature"], bool)


def _structured(plugin, stream, **parameters):
    return _invoke(plugin, "gguf_llm", WEATHER, stream=stream, parameters=parameters)


@STREAMS
def test_json_schema_response_format_is_enforced_by_the_engine(plugin, stream):
    chunks = _structured(
        plugin, stream, response_format="json_schema", json_schema=json.dumps(WEATHER_SCHEMA)
    )
    _assert_weather_json(llm_text(chunks))
    assert _finish(chunks) == ["stop"]


@STREAMS
def test_the_same_check_fails_without_response_format(plugin, stream):
    """What makes the test above pass is the engine's grammar, not the model: asked the same question
    without response_format, it answers its greeting, which the same check rejects."""
    chunks = _structured(plugin, stream)
    assert llm_text(chunks) == HELLO
    with pytest.raises(ValueError):  # json.JSONDecodeError
        _assert_weather_json(llm_text(chunks))


# ---- schema and validation --------------------------------------------------------------------------
def _schema(plugin, role: str) -> dict:
    chunks = ok(plugin, payloads.schema("llm", "my-model", credentials(UIDS[role])))
    return chunks[-1]["model_schema"]


@pytest.mark.parametrize("role", ["gguf_llm", "gguf_reasoning"])
def test_validate_accepts_the_gguf_model(plugin, role):
    assert ok(plugin, payloads.validate("llm", "my-model", credentials(UIDS[role])))[-1]["result"] is True


def test_schema_of_the_gguf_model(plugin):
    schema = _schema(plugin, "gguf_llm")
    # the converter writes max_position_embeddings as the GGUF's context length; the registration takes
    # it from the GGUF header and the plugin from the server's description
    context = json.loads((ASSETS / "tiny-qwen2-tools" / "config.json").read_text())["max_position_embeddings"]
    assert schema["model_properties"] == {"mode": "chat", "context_size": context}
    features = set(schema.get("features") or [])
    assert {"tool-call", "stream-tool-call", "structured-output"} <= features
    rules = {r["name"]: r for r in schema["parameter_rules"]}
    assert {"response_format", "json_schema"} <= set(rules)
    assert rules["max_tokens"]["max"] == context
    assert "enable_thinking" not in rules


def test_schema_of_the_hybrid_gguf_model_has_the_thinking_switch(plugin):
    rules = {r["name"]: r for r in _schema(plugin, "gguf_reasoning")["parameter_rules"]}
    assert rules["enable_thinking"]["type"] == "boolean"


# ---- thinking ---------------------------------------------------------------------------------------
def test_streamed_reasoning_split_by_llamacpp(plugin):
    chunks = _invoke(plugin, "gguf_reasoning", USER, stream=True)
    assert llm_text(chunks) == THINK + HELLO
    pieces = [c["delta"]["message"].get("content") or "" for c in chunks]
    closing = next(i for i, piece in enumerate(pieces) if "</think>" in piece)
    assert closing >= 4, f"the reasoning should arrive as it is generated, not in one piece: {pieces}"


@STREAMS
def test_thinking_switched_off(plugin, stream):
    chunks = _invoke(plugin, "gguf_reasoning", USER, stream=stream, parameters={"enable_thinking": False})
    assert llm_text(chunks).strip() == HELLO
    assert llm_usage(chunks)["completion_tokens"] == 16  # no think block was generated


def test_blocking_answer_with_thinking_on_has_no_think_block(plugin):
    # Launched without Xinference's parser, 4.1.0 drops llama.cpp's reasoning_content from a blocking answer
    # that has content: the answer comes alone, though the model did think (29 tokens, not 16).
    chunks = _invoke(plugin, "gguf_reasoning", USER, stream=False)
    assert llm_text(chunks).strip() == HELLO
    assert llm_usage(chunks)["completion_tokens"] == 29


def test_streamed_reasoning_then_tool_call(plugin):
    chunks = _invoke(plugin, "gguf_reasoning", WEATHER, stream=True, tools=[WEATHER_TOOL])
    _assert_weather_call(llm_tool_calls(chunks))
    text = llm_text(chunks)
    assert text.startswith("<think>\nI should call get_weather.\n</think>")
    assert "<tool_call>" not in text
    assert _finish(chunks) == ["tool_calls"]
