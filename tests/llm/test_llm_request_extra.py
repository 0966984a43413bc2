"""Sampling controls for local models (min_p, repetition_penalty) and the extra request body, on the wire."""

from __future__ import annotations

import json

import pytest
import responses
from dify_plugin.errors.model import InvokeBadRequestError

from tests.llm.support import COMPLETIONS_URL, add_description, add_stream, invoke, sent_bodies
from tests.llm.test_llm_request import HELLO, chat_request


def test_min_p_and_repetition_penalty_are_sent_under_xinference_names():
    body = chat_request(params={"min_p": 0.05, "repetition_penalty": 1.1})
    assert (body["min_p"], body["repetition_penalty"]) == (0.05, 1.1)


def test_unset_new_parameters_are_not_sent():
    body = chat_request(params={"temperature": 0.2})
    assert not {"min_p", "repetition_penalty", "extra_body"} & set(body)


def test_extra_body_is_merged_into_the_request():
    extra = {"chat_template_kwargs": {"reasoning_effort": "low"}, "guided_regex": "[0-9]+", "top_a": 0.2}
    body = chat_request(params={"extra_body": json.dumps(extra)})
    assert body["chat_template_kwargs"] == {"reasoning_effort": "low"}
    assert (body["guided_regex"], body["top_a"]) == ("[0-9]+", 0.2)
    assert body["messages"] == HELLO and body["model"] == "test-llm"
    assert "extra_body" not in body  # the parameter itself never travels


def test_extra_chat_template_kwargs_merge_with_the_thinking_switch_which_wins():
    extra = {"chat_template_kwargs": {"enable_thinking": True, "custom": 1}}
    params = {"enable_thinking": False, "extra_body": json.dumps(extra)}
    body = chat_request("test-reasoning", params)
    # the recorded description has model_engine, so the switch goes top level; the kwargs stay as given
    assert body["enable_thinking"] is False
    assert body["chat_template_kwargs"] == {"enable_thinking": True, "custom": 1}


def test_extra_chat_template_kwargs_merge_one_level_on_older_servers():
    extra = {"chat_template_kwargs": {"enable_thinking": True, "custom": 1}}
    params = {"enable_thinking": False, "extra_body": json.dumps(extra)}
    body = chat_request("test-reasoning", params, description={"drop": ("model_engine",)})
    assert body["chat_template_kwargs"] == {"enable_thinking": False, "custom": 1}


def test_a_parameter_set_in_dify_wins_over_the_same_key_in_the_extra_body():
    body = chat_request(params={"temperature": 0.3, "extra_body": '{"temperature": 1.5}'})
    assert body["temperature"] == 0.3


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_extra_body_sends_nothing(blank):
    assert chat_request(params={"extra_body": blank}) == {
        "model": "test-llm",
        "messages": HELLO,
        "stream": False,
    }


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{oops", "Extra request body parameter is not valid JSON"),
        ("[1, 2]", "Extra request body parameter must be a JSON object"),
        ('"text"', "must be a JSON object"),
        ('{"model": "other"}', "cannot set model"),
        ('{"messages": [], "stream": false}', "cannot set messages, stream"),
        ('{"tools": []}', "cannot set tools"),
        ('{"prompt": "x"}', "cannot set prompt"),
        ('{"stream_options": {}}', "cannot set stream_options"),
    ],
)
def test_bad_extra_body_is_a_clear_error_and_nothing_is_sent(text, problem):
    with responses.RequestsMock() as mock:
        add_description(mock)
        with pytest.raises(InvokeBadRequestError, match=problem):
            invoke(params={"extra_body": text}, stream=False)
        assert len(mock.calls) == 1  # the description only


def test_completion_mode_takes_the_new_parameters_too():
    with responses.RequestsMock() as mock:
        add_description(mock, "test-llm-base")
        add_stream(mock, "llm_13_completions_stream_raw_sse_generate_model.txt", COMPLETIONS_URL)
        params = {"repetition_penalty": 1.2, "min_p": 0.1, "extra_body": '{"guided_choice": ["a", "b"]}'}
        invoke("test-llm-base", params=params)
        (body,) = sent_bodies(mock)
    assert (body["repetition_penalty"], body["min_p"], body["guided_choice"]) == (1.2, 0.1, ["a", "b"])
    assert body["prompt"] == "Hello, who are you?"
