"""Structured output by instruction, exactly: the prompt the model reads, which parameters ask for what,
which answers pass, and the whole refusal message a Dify admin sees (answer shown on one line, cut at 200
characters)."""

from __future__ import annotations

import json

import pytest
import responses
from dify_plugin.errors.model import InvokeBadRequestError

from models._xinference.model_info import DESCRIPTIONS
from models._xinference.schemas import SCHEMAS
from tests.llm.support import CHAT_URL, WEATHER_TOOL, add_description, invoke, tool_calls
from tests.llm.test_llm_structured_output import DIFY_PARAMS, SCHEMA, _answer, _run

PREFIX = "Answer with one JSON {} and nothing else: no explanation, no code fences."
FIX = (
    "Use a model that follows instructions better, a lower temperature, or an engine that enforces schemas "
    "(vLLM, SGLang, llama.cpp)."
)


def _refusal(answer: str, params=None) -> str:
    with pytest.raises(InvokeBadRequestError) as caught:
        _run(answer, params=params)
    return str(caught.value)


def _expected(problem: str, shown: str) -> str:
    return (
        f"chat with model 'test-llm': structured output failed: {problem}. This engine cannot enforce a JSON "
        f"Schema, so the plugin asked for JSON in the prompt and the model answered {shown!r}. {FIX}"
    )


def test_the_schema_instruction_is_sent_word_for_word_and_keeps_non_ascii_readable():
    schema = {"type": "object", "properties": {"城市": {"type": "string", "description": "Ville où aller"}}}
    _, body = _run(
        '{"城市": "巴黎"}', params={"response_format": "json_schema", "json_schema": json.dumps(schema)}
    )
    # a bare schema (no {"name", "schema"} wrapper) is the schema itself
    assert body["messages"][0] == {
        "role": "system",
        "content": PREFIX.format("value") + " It must validate against this JSON Schema:\n"
        '{"type": "object", "properties": {"城市": {"type": "string", "description": "Ville où aller"}}}',
    }


def test_a_schema_alone_asks_for_it_and_text_with_a_schema_asks_nothing():
    _, body = _run('{"city": "Paris", "days": 3}', params={"json_schema": DIFY_PARAMS["json_schema"]})
    assert body["messages"][0]["content"].endswith("JSON Schema:\n" + json.dumps(SCHEMA))
    text, body = _run(
        "Paris, 3 days.", params={"response_format": "text", "json_schema": DIFY_PARAMS["json_schema"]}
    )
    assert text == "Paris, 3 days." and body["messages"] == [
        {"role": "user", "content": "Hello, who are you?"}
    ]


def test_json_object_ignores_a_leftover_schema_and_refuses_an_array():
    params = {"response_format": "json_object", "json_schema": DIFY_PARAMS["json_schema"]}
    _, body = _run("{}", params=params)
    assert body["messages"][0] == {"role": "system", "content": PREFIX.format("object")}
    assert _refusal("[1, 2]", params) == _expected("it is a JSON array, not an object", "[1, 2]")


def test_an_answer_without_json_is_refused_with_the_whole_message_on_one_line():
    answer = "Hello!\nI am a tiny test model."
    assert _refusal(answer) == _expected("it holds no valid JSON", "Hello! I am a tiny test model.")


@pytest.mark.parametrize(
    ("length", "shown"), [(200, "a" * 200), (201, "a" * 200 + "…")], ids=["200-shown-whole", "201-cut"]
)
def test_the_quoted_answer_is_cut_after_200_characters(length, shown):
    assert _refusal("a" * length) == _expected("it holds no valid JSON", shown)


@pytest.mark.parametrize(
    ("schema", "answer", "problem"),
    [
        ({"type": "array"}, '{"a": 1}', "it is a JSON object, but the schema asks for an array"),
        (SCHEMA, "{}", "the required key(s) city, days are missing"),
    ],
)
def test_the_top_level_problem_is_named(schema, answer, problem):
    params = {"response_format": "json_schema", "json_schema": json.dumps({"schema": schema})}
    assert _refusal(answer, params) == _expected(problem, answer)


def test_required_keys_bind_objects_only():
    # JSON Schema's "required" says nothing about an array: Dify's own validation judges the rest
    params = {"response_format": "json_schema", "json_schema": json.dumps({"required": ["city"]})}
    text, _ = _run("[1, 2]", params=params)
    assert text == "[1, 2]"


def test_braces_that_are_not_json_do_not_hide_the_json_after_them():
    text, _ = _run('I fill {placeholders} like this: {"city": "Kyiv", "days": 5}')
    assert json.loads(text) == {"city": "Kyiv", "days": 5}


def test_a_tool_call_is_passed_on_when_the_schema_is_instructed():
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
    }
    reply = _answer("")
    reply["choices"][0]["message"] = {"role": "assistant", "content": None, "tool_calls": [call]}
    reply["choices"][0]["finish_reason"] = "tool_calls"
    DESCRIPTIONS.clear()
    SCHEMAS.clear()
    with responses.RequestsMock() as mock:
        add_description(mock, model_engine="Transformers")
        mock.post(CHAT_URL, json=reply)
        chunks = invoke("test-llm", None, DIFY_PARAMS, stream=False, tools=[WEATHER_TOOL])
    assert tool_calls(chunks) == [("get_weather", '{"city": "Oslo"}')]
