"""Xinference 1.17.1 refuses a streamed chat with tools (HTTP 400) on its Transformers engine: the plugin
answers that turn with one blocking call, streamed to Dify, and remembers the model so the next turn goes
straight to the blocking call. Replays tests/fixtures/xinference-1.17.1 (make fixtures-compat)."""

from __future__ import annotations

import json

import pytest
import responses
from dify_plugin.errors.model import InvokeBadRequestError, InvokeServerUnavailableError

from models.llm.llm import REFUSAL_TTL, STREAMED_TOOLS_REFUSED, refuses_streamed_tools
from models.llm.request import blocking_body
from tests.helpers import SERVER, release_fixture_bytes, release_fixture_json, release_http_fixture
from tests.llm.support import CHAT_URL, WEATHER_TOOL, content, invoke, sent_bodies, tool_calls

OLD = "1.17.1"
UID = "test-tiny-qwen2-tools"


def _refusal():
    status, headers, body = release_http_fixture(OLD, "chat_tools_stream.txt")
    return responses.Response(
        "POST", CHAT_URL, status=status, body=body, content_type=headers["content-type"]
    )


def _old_server(mock, *, refuse=True, uid=UID):
    mock.get(f"{SERVER}/v1/models/{uid}", json=release_fixture_json(OLD, "llm_get_model.json"))
    if refuse:
        mock.add(_refusal())
    mock.post(CHAT_URL, json=release_fixture_json(OLD, "chat_tools_nonstream.json"))


def _agent_turn(uid=UID):
    return invoke(uid, tools=[WEATHER_TOOL], stream=True)


def test_the_recorded_refusal_is_recognised():
    status, _, body = release_http_fixture(OLD, "chat_tools_stream.txt")
    assert status == 400 and b"Streaming support for tool calls" in body


def test_a_refused_streamed_tool_turn_becomes_one_blocking_call():
    with responses.RequestsMock() as mock:
        _old_server(mock)
        chunks = _agent_turn()
        streamed, blocking = sent_bodies(mock)
    assert streamed["stream"] is True and streamed["tools"]
    assert blocking["stream"] is False and "stream_options" not in blocking
    assert {k: v for k, v in blocking.items() if k not in ("stream", "stream_options")} == {
        k: v for k, v in streamed.items() if k not in ("stream", "stream_options")
    }
    assert tool_calls(chunks) == [("get_weather", '{"city": "Paris"}')]
    assert "<tool_call>" not in content(chunks)
    last = chunks[-1]
    assert last.delta.finish_reason == "tool_calls"
    recorded = release_fixture_json(OLD, "chat_tools_nonstream.json")["usage"]
    assert last.delta.usage.prompt_tokens == recorded["prompt_tokens"]  # the server's counts
    assert last.delta.usage.completion_tokens == recorded["completion_tokens"]


def test_the_next_turn_does_not_pay_twice():
    with responses.RequestsMock() as mock:
        _old_server(mock)
        _agent_turn()
        mock.calls.reset()
        chunks = _agent_turn()
        bodies = sent_bodies(mock)
    assert [b["stream"] for b in bodies] == [False]
    assert tool_calls(chunks) == [("get_weather", '{"city": "Paris"}')]


def test_the_memo_is_per_model():
    with responses.RequestsMock() as mock:
        _old_server(mock)
        _agent_turn()
    assert STREAMED_TOOLS_REFUSED.get((SERVER, UID), False)
    assert not STREAMED_TOOLS_REFUSED.get((SERVER, "another-model"), False)
    assert not STREAMED_TOOLS_REFUSED.get(("http://other:9997", UID), False)


def test_a_plain_stream_without_tools_is_never_turned_into_a_blocking_call():
    with responses.RequestsMock() as mock:
        mock.get(f"{SERVER}/v1/models/{UID}", json=release_fixture_json(OLD, "llm_get_model.json"))
        mock.add(_refusal())  # even if a server answered so, without tools it is an error to report
        with pytest.raises(InvokeBadRequestError, match="Streaming support for tool calls"):
            invoke(UID, stream=True)
    assert not STREAMED_TOOLS_REFUSED.get((SERVER, UID), False)


def test_another_400_is_reported_not_retried_blocking():
    status, headers, body = release_http_fixture(OLD, "err_chat_unknown_model.txt")
    with responses.RequestsMock() as mock:
        mock.get(f"{SERVER}/v1/models/{UID}", json=release_fixture_json(OLD, "llm_get_model.json"))
        mock.post(CHAT_URL, status=status, body=body, content_type=headers["content-type"])
        with pytest.raises(InvokeBadRequestError):
            _agent_turn()
        assert len(sent_bodies(mock)) == 1
    assert not STREAMED_TOOLS_REFUSED.get((SERVER, UID), False)


def test_a_failing_blocking_fallback_is_a_typed_error():
    with responses.RequestsMock() as mock:
        mock.get(f"{SERVER}/v1/models/{UID}", json=release_fixture_json(OLD, "llm_get_model.json"))
        mock.add(_refusal())
        mock.post(CHAT_URL, status=500, json={"detail": "engine crashed"})
        with pytest.raises(InvokeServerUnavailableError, match="engine crashed"):
            _agent_turn()


def test_refusal_detection_needs_status_400_and_the_words():
    from models._xinference.errors import status_error

    words = "Streaming support for tool calls is available only when using Qwen models with vLLM backend"
    assert refuses_streamed_tools(status_error(400, "Bad Request", words, "chat"))
    assert not refuses_streamed_tools(status_error(500, "Error", words, "chat"))
    assert not refuses_streamed_tools(status_error(400, "Bad Request", "Invalid input.", "chat"))
    assert not refuses_streamed_tools(ValueError(words))


def test_memo_expires_and_stays_bounded():
    assert REFUSAL_TTL == 600  # the server may be upgraded: a refusal is not remembered for ever
    assert STREAMED_TOOLS_REFUSED.max_entries == 256  # a process may serve many servers and uids


def test_blocking_body_keeps_everything_but_streaming():
    body = {
        "model": "m",
        "messages": [],
        "tools": [1],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    assert blocking_body(body) == {"model": "m", "messages": [], "tools": [1], "stream": False}
    assert body["stream"] is True  # the caller's body is not changed


def test_recorded_1_17_1_stream_with_tools_is_json_not_a_stream():
    raw = release_fixture_bytes(OLD, "chat_tools_stream.txt")
    _, _, body = raw.partition(b"\r\n\r\n")
    assert "detail" in json.loads(body)
