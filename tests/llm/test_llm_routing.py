"""Every route of an invocation (blocking, streamed, chat or generate, a refused streamed tool turn) names
the call in its errors; the fallback is logged for the operator; usage carries the call's own latency and
counts every tool call when the server reports none; a fault while the stream is read reaches Dify typed."""

from __future__ import annotations

import logging

import pytest
import responses
from dify_plugin.errors.model import InvokeBadRequestError, InvokeServerUnavailableError

from models._xinference.process_state import reset_process_state
from models._xinference.tokens import estimate_tokens
from models.llm.streams import ChatStream
from tests.helpers import SERVER, release_fixture_json, release_http_fixture
from tests.llm.support import (
    CHAT_URL,
    COMPLETIONS_URL,
    WEATHER_TOOL,
    add_description,
    add_stream,
    chunk,
    invoke,
    sse,
)

OLD, OLD_UID = "1.17.1", "test-tiny-qwen2-tools"  # a 1.x server that refuses streamed tool calls


@pytest.mark.parametrize("stream", [True, False])
@pytest.mark.parametrize(
    ("uid", "url", "what"),
    [
        ("test-llm", CHAT_URL, "chat with model 'test-llm'"),
        ("test-llm-base", COMPLETIONS_URL, "completion with model 'test-llm-base'"),
    ],
)
def test_a_failing_call_is_named_in_the_error_on_every_route(uid, url, what, stream):
    reset_process_state()
    with responses.RequestsMock() as mock:
        add_description(mock, uid)
        mock.post(url, status=500, json={"detail": "engine crashed"})
        with pytest.raises(InvokeServerUnavailableError) as failed:
            invoke(uid, stream=stream)
    assert what in str(failed.value) and "engine crashed" in str(failed.value)


def _old_server(mock, *, refuse: bool):
    mock.get(f"{SERVER}/v1/models/{OLD_UID}", json=release_fixture_json(OLD, "llm_get_model.json"))
    if refuse:
        status, headers, body = release_http_fixture(OLD, "chat_tools_stream.txt")
        mock.post(CHAT_URL, status=status, body=body, content_type=headers["content-type"])


@pytest.mark.parametrize("known", [False, True], ids=["refused-now", "refused-before"])
def test_a_failing_blocking_fallback_names_the_call(known):
    reset_process_state()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        _old_server(mock, refuse=True)
        mock.post(CHAT_URL, json=release_fixture_json(OLD, "chat_tools_nonstream.json"))
        if known:
            invoke(OLD_UID, tools=[WEATHER_TOOL])  # the refusal is remembered
    with responses.RequestsMock() as mock:
        _old_server(mock, refuse=not known)
        mock.post(CHAT_URL, status=500, json={"detail": "engine crashed"})
        with pytest.raises(InvokeServerUnavailableError) as failed:
            invoke(OLD_UID, tools=[WEATHER_TOOL])
    assert f"chat with model '{OLD_UID}'" in str(failed.value)


def test_the_fallback_is_logged_with_the_call_and_how_long_it_is_remembered(caplog):
    reset_process_state()
    with responses.RequestsMock() as mock, caplog.at_level(logging.INFO, logger="models.llm.llm"):
        _old_server(mock, refuse=True)
        mock.post(CHAT_URL, json=release_fixture_json(OLD, "chat_tools_nonstream.json"))
        invoke(OLD_UID, tools=[WEATHER_TOOL])
    assert [r.getMessage() for r in caplog.records if r.name == "models.llm.llm"] == [
        f"chat with model '{OLD_UID}': the server refuses streamed tool calls; answering with one "
        "blocking call (remembered for 600 s)"
    ]


@pytest.mark.parametrize("stream", [True, False])
def test_latency_is_the_time_of_this_call(stream):
    reset_process_state()
    with responses.RequestsMock() as mock:
        add_description(mock)
        if stream:
            add_stream(mock, "llm_06_chat_stream_raw_sse.txt")
        else:
            mock.post(CHAT_URL, json={"choices": [{"message": {"content": "Hi"}, "finish_reason": "stop"}]})
        usage = invoke(stream=stream)[-1].delta.usage
    assert 0 < usage.latency < 30


def test_estimated_completion_counts_every_tool_call_as_written():
    calls = [
        {"index": i, "id": f"c{i}", "type": "function", "function": {"name": "get_weather", "arguments": a}}
        for i, a in enumerate(['{"city": "Paris"}', '{"city": "Rome"}'])
    ]
    reset_process_state()
    with responses.RequestsMock() as mock:
        add_description(mock)
        add_stream(mock, sse(chunk({"tool_calls": calls}), chunk({}, "tool_calls")))
        usage = invoke(tools=[WEATHER_TOOL])[-1].delta.usage
    written = 'get_weather {"city": "Paris"} get_weather {"city": "Rome"}'
    assert usage.completion_tokens == estimate_tokens(written)


def test_a_fault_while_the_stream_is_read_reaches_dify_typed_with_its_message(monkeypatch):
    def unreadable(self, choice):
        raise ValueError("a delta the plugin cannot read")

    monkeypatch.setattr(ChatStream, "_piece", unreadable)
    reset_process_state()
    with responses.RequestsMock() as mock:
        add_description(mock)
        add_stream(mock, "llm_06_chat_stream_raw_sse.txt")
        with pytest.raises(InvokeBadRequestError, match="a delta the plugin cannot read"):
            invoke()
