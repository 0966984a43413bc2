"""Structured output on every chat model (issue 27, 1): enforced engines get `response_format` and the answer
as it is; elsewhere the schema becomes an instruction, the request is blocking, and the answer is reduced to
its JSON (reasoning and code fences removed) or refused with a typed error that quotes it."""

from __future__ import annotations

import json

import pytest
import responses
from dify_plugin.entities.model.message import SystemPromptMessage, UserPromptMessage
from dify_plugin.errors.model import InvokeBadRequestError

from models._xinference.model_info import DESCRIPTIONS
from models._xinference.schemas import SCHEMAS
from tests.llm.support import CHAT_URL, add_description, content, invoke, sent_bodies

SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
    "required": ["city", "days"],
}
# What Dify's LLM node sets for structured output (api/core/llm_generator/output_parser/structured_output.py)
DIFY_PARAMS = {
    "response_format": "json_schema",
    "json_schema": json.dumps({"schema": SCHEMA, "name": "llm_response"}),
}


def _answer(text: str) -> dict:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "test-llm",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 30, "completion_tokens": 12, "total_tokens": 42},
    }


def _run(
    answer_text: str,
    *,
    engine: str = "Transformers",
    stream: bool = False,
    params=None,
    messages=None,
    **creds,
):
    DESCRIPTIONS.clear()
    SCHEMAS.clear()
    with responses.RequestsMock() as mock:
        add_description(mock, model_engine=engine)
        mock.post(CHAT_URL, json=_answer(answer_text))
        chunks = invoke(
            "test-llm", messages, DIFY_PARAMS if params is None else params, stream=stream, **creds
        )
        (body,) = sent_bodies(mock)
    return content(chunks), body


@pytest.mark.parametrize("stream", [False, True])
def test_transformers_engine_gets_the_schema_as_an_instruction_and_a_blocking_request(stream):
    text, body = _run('{"city": "Paris", "days": 3}', stream=stream)
    assert json.loads(text) == {"city": "Paris", "days": 3}
    assert body["stream"] is False and "stream_options" not in body  # the whole answer is needed
    assert "response_format" not in body  # the Transformers engine never reads it
    system = body["messages"][0]
    assert system["role"] == "system"
    assert json.dumps(SCHEMA) in system["content"]
    assert body["messages"][1] == {"role": "user", "content": "Hello, who are you?"}


def test_the_instruction_joins_the_leading_system_message():
    messages = [SystemPromptMessage(content="You plan trips."), UserPromptMessage(content="Paris?")]
    _, body = _run('{"city": "Paris", "days": 1}', messages=messages)
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert body["messages"][0]["content"].startswith("You plan trips.\n\nAnswer with one JSON value")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            '<think>\nThe user wants {"a": 1}.\n</think>\n\n{"city": "Rome", "days": 2}',
            {"city": "Rome", "days": 2},
        ),
        ('Sure!\n```json\n{"city": "Oslo", "days": 4}\n```\nEnjoy.', {"city": "Oslo", "days": 4}),
        ('Here it is: {"city": "Kyiv", "days": 5} — have fun', {"city": "Kyiv", "days": 5}),
        # the fenced block wins over JSON-looking prose before it
        ('Not {} but:\n```\n{"city": "Bern", "days": 7}\n```', {"city": "Bern", "days": 7}),
        ('reasoning without an opening tag</think>{"city": "Lima", "days": 6}', {"city": "Lima", "days": 6}),
    ],
)
def test_the_json_is_taken_out_of_reasoning_fences_and_prose(answer, expected):
    text, _ = _run(answer)
    assert json.loads(text) == expected


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ("Hello! I am a tiny test model.", "holds no valid JSON"),
        ('{"city": "Paris"', "holds no valid JSON"),
        ('["Paris", 3]', "is a JSON array, but the schema asks for an object"),
        ('{"city": "Paris"}', "required key(s) days are missing"),
    ],
)
def test_an_answer_that_is_not_the_asked_json_is_a_typed_error_quoting_it(answer, problem):
    with pytest.raises(InvokeBadRequestError) as caught:
        _run(answer)
    message = str(caught.value)
    assert "structured output failed" in message and problem in message
    assert repr(answer.strip())[:40] in message


def test_json_object_asks_for_any_object():
    text, body = _run('ok: {"x": [1, 2]}', params={"response_format": "json_object"})
    assert json.loads(text) == {"x": [1, 2]}
    assert "one JSON object" in body["messages"][0]["content"]


@pytest.mark.parametrize("engine", ["vLLM", "SGLang", "llama.cpp"])
def test_enforcing_engines_get_response_format_and_no_instruction(engine):
    answer = '{"city": "Paris", "days": 3}'
    text, body = _run(answer, engine=engine, stream=False)
    block = body["response_format"]["json_schema"]
    assert body["response_format"]["type"] == "json_schema" and block["name"] == "llm_response"
    # llama.cpp also gets llguidance's compact-JSON option (guided_json.py, issue 23)
    assert {k: v for k, v in block["schema"].items() if k != "x-guidance"} == SCHEMA
    assert [m["role"] for m in body["messages"]] == ["user"]
    assert text == answer


def test_an_engine_that_may_enforce_gets_both_the_instruction_and_response_format():
    # MLX enforces from 4.x and ignores it before; a pre-3.1 server names no engine at all.
    for engine in ("MLX", None):
        _, body = _run('{"city": "Paris", "days": 3}', engine=engine)
        assert body["response_format"]["type"] == "json_schema"
        assert body["messages"][0]["role"] == "system"


def test_the_override_picks_the_path():
    _, enforced = _run('{"city": "Paris", "days": 3}', structured_output="supported")
    assert "response_format" in enforced and enforced["messages"][0]["role"] == "user"
    _, instructed = _run('{"city": "Paris", "days": 3}', engine="vLLM", structured_output="unsupported")
    assert instructed["messages"][0]["role"] == "system" and instructed["stream"] is False


def test_text_response_format_changes_nothing():
    text, body = _run("Hello! I am a tiny test model.", params={"response_format": "text"})
    assert text == "Hello! I am a tiny test model."
    assert body["messages"] == [{"role": "user", "content": "Hello, who are you?"}]
