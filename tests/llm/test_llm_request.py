"""Request parameters on the wire: what is sent for each parameter, and what is not sent when left unset."""

from __future__ import annotations

import json

import pytest
import responses
from dify_plugin.errors.model import InvokeBadRequestError

from tests.helpers import fixture_json
from tests.llm.support import (
    CHAT_URL,
    COMPLETIONS_URL,
    WEATHER_TOOL,
    add_description,
    add_stream,
    invoke,
    sent_bodies,
)

HELLO = [{"role": "user", "content": "Hello, who are you?"}]


def chat_request(uid="test-llm", params=None, *, stream=False, **kwargs):
    """The body of the one chat request an invocation sends."""
    with responses.RequestsMock() as mock:
        add_description(mock, uid, **kwargs.pop("description", {}))
        if stream:
            add_stream(mock, "llm_06_chat_stream_raw_sse.txt")
        else:
            mock.post(CHAT_URL, json=fixture_json("llm_05_chat_nonstream.json"))
        invoke(uid, params=params, stream=stream, **kwargs)
        (body,) = sent_bodies(mock)
    return body


def test_unset_parameters_are_not_sent():
    assert chat_request() == {"model": "test-llm", "messages": HELLO, "stream": False}


def test_streaming_asks_for_usage():
    body = chat_request(stream=True)
    assert body == {
        "model": "test-llm",
        "messages": HELLO,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def test_set_parameters_are_sent_as_given():
    params = {
        "temperature": 1.3,
        "top_p": 0.9,
        "top_k": 40,
        "max_tokens": 100,
        "presence_penalty": -0.5,
        "frequency_penalty": 1.5,
        "seed": 42,
    }
    body = chat_request(params=params)
    assert {k: body[k] for k in params} == params


def test_temperature_zero_is_sent_as_zero_for_greedy_decoding():
    body = chat_request(params={"temperature": 0.0})
    assert body["temperature"] == 0
    assert "top_p" not in body and "max_tokens" not in body  # nothing forced next to it


def test_stop_words_and_tools_are_sent():
    body = chat_request(tools=[WEATHER_TOOL], stop=["\nUser:", "###"])
    assert body["stop"] == ["\nUser:", "###"]
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Current weather in a city",
                "parameters": WEATHER_TOOL.parameters,
            },
        }
    ]


def test_max_tokens_above_the_context_is_refused_before_sending():
    with responses.RequestsMock() as mock:
        add_description(mock)  # context 2048
        with pytest.raises(ValueError, match="max_tokens"):
            invoke(params={"max_tokens": 4096})
        assert len(mock.calls) == 1  # the description only


# ---- thinking -------------------------------------------------------------------------------


def test_thinking_unset_sends_nothing_so_the_launch_default_holds():
    body = chat_request("test-reasoning")
    assert "enable_thinking" not in body and "chat_template_kwargs" not in body


@pytest.mark.parametrize("value", [True, False])
def test_thinking_goes_top_level_on_servers_that_report_the_engine(value):
    body = chat_request("test-reasoning", {"enable_thinking": value})
    assert body["enable_thinking"] is value
    assert "chat_template_kwargs" not in body


@pytest.mark.parametrize("value", [True, False])
def test_thinking_goes_into_chat_template_kwargs_on_older_servers(value):
    # before v3.1 the description has no model_engine; top-level enable_thinking arrived only in v1.17
    body = chat_request("test-reasoning", {"enable_thinking": value}, description={"drop": ("model_engine",)})
    assert body["chat_template_kwargs"] == {"enable_thinking": value}
    assert "enable_thinking" not in body


def test_a_null_engine_still_means_a_new_server():
    body = chat_request("test-reasoning", {"enable_thinking": False}, description={"model_engine": None})
    assert body["enable_thinking"] is False


def test_thinking_is_refused_for_models_without_the_switch():
    # not hybrid: the rule does not exist, so the SDK drops the parameter and nothing reaches the server
    body = chat_request("test-llm", {"enable_thinking": True})
    assert "enable_thinking" not in body and "chat_template_kwargs" not in body


# ---- response_format ------------------------------------------------------------------------

VLLM = {"model_engine": "vLLM"}
SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}


@pytest.mark.parametrize("kind", ["text", "json_object"])
def test_response_format_simple_kinds(kind):
    body = chat_request(params={"response_format": kind}, description=VLLM)
    assert body["response_format"] == {"type": kind}


def test_response_format_json_schema_as_dify_structured_output_sends_it():
    dify = json.dumps({"schema": SCHEMA, "name": "llm_response"})
    body = chat_request(params={"response_format": "json_schema", "json_schema": dify}, description=VLLM)
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"schema": SCHEMA, "name": "llm_response"},
    }
    assert "json_schema" not in body


def test_a_bare_schema_gets_the_name_xinference_requires():
    body = chat_request(
        params={"response_format": "json_schema", "json_schema": json.dumps(SCHEMA)}, description=VLLM
    )
    assert body["response_format"]["json_schema"] == {"name": "response", "schema": SCHEMA}


@pytest.mark.parametrize("wrapped", [{"schema": SCHEMA}, {"schema": SCHEMA, "name": ""}])
def test_a_wrapped_schema_without_a_name_gets_the_name_xinference_requires(wrapped):
    params = {"response_format": "json_schema", "json_schema": json.dumps(wrapped)}
    body = chat_request(params=params, description=VLLM)
    assert body["response_format"]["json_schema"] == {"schema": SCHEMA, "name": "response"}


def test_a_schema_alone_means_json_schema():
    body = chat_request(params={"json_schema": json.dumps(SCHEMA)}, description=VLLM)
    assert body["response_format"]["type"] == "json_schema"


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        (None, "^response_format json_schema needs a schema in the JSON Schema parameter$"),
        ("{oops", "^the JSON Schema parameter is not valid JSON: Expecting property name"),
        ("[1]", "^the JSON Schema parameter must be a JSON object$"),
    ],
)
def test_bad_json_schema_is_a_clear_error(schema, problem):
    params = {"response_format": "json_schema"} | ({"json_schema": schema} if schema else {})
    with responses.RequestsMock() as mock:
        add_description(mock, **VLLM)
        with pytest.raises(InvokeBadRequestError, match=problem):
            invoke(params=params, stream=False)
        assert len(mock.calls) == 1  # nothing was sent


# ---- completion mode --------------------------------------------------------------------------


def test_completion_mode_posts_the_prompt_and_never_thinking_or_response_format():
    with responses.RequestsMock() as mock:
        add_description(mock, "test-llm-base", model_ability=["generate", "hybrid"], model_engine="vLLM")
        add_stream(mock, "llm_13_completions_stream_raw_sse_generate_model.txt", COMPLETIONS_URL)
        invoke(
            "test-llm-base",
            params={
                "temperature": 0.0,
                "max_tokens": 16,
                "enable_thinking": True,
                "response_format": "json_object",
            },
            stop=["\n"],
        )
        (body,) = sent_bodies(mock)
        assert mock.calls[1].request.url == COMPLETIONS_URL
    assert body == {
        "model": "test-llm-base",
        "prompt": "Hello, who are you?",
        "temperature": 0.0,
        "max_tokens": 16,
        "stop": ["\n"],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
