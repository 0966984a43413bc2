"""The llama.cpp engine's answers as recorded from a real Xinference 4.1.0 (tests/fixtures/
xinference-4.1.0-llamacpp, tools/real_xinference/record_llamacpp.py): the tiny models as GGUF files.

What differs from the Transformers engine: usage counts the end-of-turn token in blocking answers too;
one finishing frame and a `choices: []` usage frame; a template without `<tool_call>` text leaves the call
as markup in `content` (finish "stop"), one with it gets native `tool_calls`, streamed as argument pieces;
the reasoning is split by llama.cpp itself; JSON Schema is enforced by an llguidance grammar.
"""

from __future__ import annotations

import json

import pytest
import responses
from dify_plugin.entities.model import ModelPropertyKey

from models.llm import guided_json
from tests.helpers import SERVER, release_fixture_bytes, release_fixture_json
from tests.llm.schema_support import F, rules, schema
from tests.llm.support import CHAT_URL, WEATHER_TOOL, add_stream, content, invoke, sent_bodies, tool_calls
from tests.llm.test_llm_think_and_blocking import HELLO_THINKING

RELEASE = "4.1.0-llamacpp"
HELLO = "Hello! I am a tiny test model."
DESCRIPTIONS = {
    "test-gguf-llm": "llamacpp_01_get_model.json",
    "test-gguf-reasoning": "llamacpp_20_reasoning_get_model.json",
}
WEATHER_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "temperature": {"type": "integer"}},
    "required": ["city", "temperature"],
    "additionalProperties": False,
}
STRUCTURED = {"response_format": "json_schema", "json_schema": json.dumps(WEATHER_SCHEMA)}


def recorded(name):
    return release_fixture_bytes(RELEASE, name)


def run(uid, answer, *, stream, params=None, tools=None, description=None):
    """Invoke through the SDK entry point against the recorded description and answer."""
    with responses.RequestsMock() as mock:
        mock.get(
            f"{SERVER}/v1/models/{uid}", json=description or release_fixture_json(RELEASE, DESCRIPTIONS[uid])
        )
        if stream:
            add_stream(mock, recorded(answer))
        else:
            mock.post(CHAT_URL, body=recorded(answer), content_type="application/json")
        chunks = invoke(uid, params=params, stream=stream, tools=tools)
        return chunks, sent_bodies(mock)[-1]


def finish(chunks):
    return [c.delta.finish_reason for c in chunks if c.delta.finish_reason]


def usage(chunks):
    return chunks[-1].delta.usage


# ---- chat, usage, limits ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("answer", "stream"), [("llamacpp_02_chat.json", False), ("llamacpp_03_chat_raw_sse.txt", True)]
)
def test_chat_with_the_servers_usage(answer, stream):
    chunks, _ = run("test-gguf-llm", answer, stream=stream)
    assert content(chunks) == HELLO
    assert finish(chunks) == ["stop"]
    assert (usage(chunks).prompt_tokens, usage(chunks).completion_tokens) == (19, 16)


@pytest.mark.parametrize(
    ("answer", "stream"),
    [("llamacpp_05_max_tokens.json", False), ("llamacpp_04_max_tokens_raw_sse.txt", True)],
)
def test_max_tokens_is_finish_reason_length(answer, stream):
    chunks, _ = run("test-gguf-llm", answer, stream=stream)
    assert content(chunks) == "Hello!"
    assert finish(chunks) == ["length"]
    assert usage(chunks).completion_tokens == 4


def test_stop_word_answer():
    chunks, _ = run("test-gguf-llm", "llamacpp_06_stop.json", stream=False)
    assert content(chunks) == "Hello! I am a "
    assert finish(chunks) == ["stop"]


# ---- tool calls -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("answer", "stream"), [("llamacpp_07_tools.json", False), ("llamacpp_08_tools_raw_sse.txt", True)]
)
def test_tool_call_left_as_markup_becomes_a_call(answer, stream):
    chunks, _ = run("test-gguf-llm", answer, stream=stream, tools=[WEATHER_TOOL])
    assert tool_calls(chunks) == [("get_weather", '{"city": "Paris"}')]
    assert content(chunks) == ""
    assert finish(chunks) == ["tool_calls"]


def test_native_tool_call_streamed_in_pieces_after_the_reasoning():
    chunks, _ = run(
        "test-gguf-reasoning", "llamacpp_26_reasoning_tools_raw_sse.txt", stream=True, tools=[WEATHER_TOOL]
    )
    assert tool_calls(chunks) == [("get_weather", '{"city": "Paris"}')]
    assert content(chunks).startswith("<think>\nI should call get_weather.\n</think>")
    assert "<tool_call>" not in content(chunks)
    assert finish(chunks) == ["tool_calls"]


def test_native_tool_call_blocking():
    chunks, _ = run(
        "test-gguf-reasoning", "llamacpp_25_reasoning_tools.json", stream=False, tools=[WEATHER_TOOL]
    )
    assert tool_calls(chunks) == [("get_weather", '{"city": "Paris"}')]
    assert finish(chunks) == ["tool_calls"]


# ---- reasoning --------------------------------------------------------------------------------------
def test_reasoning_split_by_llamacpp_reads_as_dify_expects():
    chunks, _ = run("test-gguf-reasoning", "llamacpp_22_reasoning_chat_raw_sse.txt", stream=True)
    assert content(chunks) == HELLO_THINKING


def test_blocking_answer_comes_without_its_reasoning():
    # Xinference drops llama.cpp's reasoning_content from a blocking answer when its own parser is off
    chunks, _ = run("test-gguf-reasoning", "llamacpp_21_reasoning_chat.json", stream=False)
    assert content(chunks) == "\n\n" + HELLO
    assert usage(chunks).completion_tokens == 29  # the model did think


def test_with_xinferences_parser_too_the_whole_answer_arrives_as_reasoning():
    """Launched with `reasoning_content: true`, 4.1.0 parses llama.cpp's already split answer again and
    streams all of it as reasoning (README: launch GGUF reasoning models on llama.cpp without it). The
    plugin shows what the server sent: one think block, no answer after it."""
    chunks, _ = run(
        "test-gguf-reasoning",
        "llamacpp_32_reasoning_chat_raw_sse.txt",
        stream=True,
        description=release_fixture_json(RELEASE, "llamacpp_30_reasoning_get_model.json"),
    )
    assert content(chunks).startswith("<think>\nThe user greets me.")
    assert content(chunks).endswith(HELLO + "\n</think>")


# ---- structured output ------------------------------------------------------------------------------
def test_json_schema_goes_to_llamacpp_with_compact_whitespace():
    _, body = run("test-gguf-llm", "llamacpp_12_json_schema_compact.json", stream=False, params=STRUCTURED)
    sent = body["response_format"]["json_schema"]["schema"]
    assert sent == {**WEATHER_SCHEMA, "x-guidance": {"whitespace_flexible": False}}


def test_other_engines_get_the_schema_unchanged():
    description = release_fixture_json(RELEASE, DESCRIPTIONS["test-gguf-llm"]) | {"model_engine": "vLLM"}
    _, body = run(
        "test-gguf-llm",
        "llamacpp_11_no_schema.json",
        stream=False,
        params=STRUCTURED,
        description=description,
    )
    assert body["response_format"]["json_schema"]["schema"] == WEATHER_SCHEMA


def test_recorded_why_flexible_whitespace_fails_and_compact_json_holds():
    loose = release_fixture_json(RELEASE, "llamacpp_09_json_schema.json")["choices"][0]
    assert loose["finish_reason"] == "length"  # newlines until max_tokens
    with pytest.raises(ValueError):
        json.loads(loose["message"]["content"])
    compact = json.loads(
        release_fixture_json(RELEASE, "llamacpp_12_json_schema_compact.json")["choices"][0]["message"][
            "content"
        ]
    )
    assert set(compact) == {"city", "temperature"} and isinstance(compact["temperature"], int)


def test_json_object_is_not_enforced_by_this_engine():
    answer = release_fixture_json(RELEASE, "llamacpp_13_json_object.json")["choices"][0]["message"]["content"]
    assert answer == HELLO


@pytest.mark.parametrize(
    "schema_in",
    [{"type": "object", "x-guidance": {"whitespace_flexible": True}}, None],
    ids=["users-own-options", "no-schema-object"],
)
def test_guided_json_leaves_what_it_should_not_touch(schema_in):
    fmt = {"type": "json_schema", "json_schema": {"name": "r", "schema": schema_in}}
    assert guided_json.for_engine(fmt, "llama.cpp") == fmt
    assert guided_json.for_engine({"type": "json_object"}, "llama.cpp") == {"type": "json_object"}


# ---- schema -----------------------------------------------------------------------------------------
def test_schema_of_a_gguf_model():
    with responses.RequestsMock() as mock:
        mock.get(
            f"{SERVER}/v1/models/test-gguf-llm",
            json=release_fixture_json(RELEASE, DESCRIPTIONS["test-gguf-llm"]),
        )
        entity = schema("test-gguf-llm")
    assert entity.model_properties[ModelPropertyKey.CONTEXT_SIZE] == 2048
    assert {F.TOOL_CALL, F.STREAM_TOOL_CALL, F.STRUCTURED_OUTPUT} <= set(entity.features)
    assert {"response_format", "json_schema"} <= set(rules(entity))
    assert "enable_thinking" not in rules(entity)
