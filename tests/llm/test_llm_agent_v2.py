"""What Dify's Agent V2 sends (issue 27, 2): tool results with files never raise (the files follow in a
user message for a model that reads them, a placeholder otherwise), several system messages become one at
the front, and tool_choice reaches the server (dropped with a log line where the server refuses it)."""

from __future__ import annotations

import json
import logging

import pytest
import responses
from dify_plugin.entities.model.message import (
    AssistantPromptMessage,
    AudioPromptMessageContent,
    DocumentPromptMessageContent,
    ImagePromptMessageContent,
    SystemPromptMessage,
    TextPromptMessageContent,
    ToolPromptMessage,
    UserPromptMessage,
)
from dify_plugin.errors.model import InvokeServerUnavailableError

from models._xinference.model_info import DESCRIPTIONS
from models._xinference.schemas import SCHEMAS
from models.llm.llm import XinferenceLargeLanguageModel
from tests.helpers import fixture_json
from tests.llm.messages_support import call
from tests.llm.support import CHAT_URL, WEATHER_TOOL, add_description, add_stream, creds, invoke, sent_bodies

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="


def _image(**kw):
    return ImagePromptMessageContent(format="png", base64_data=PNG, mime_type="image/png", **kw)


def _agent_turn(*tool_contents) -> list:
    calls = [call(f"call_{i}", "get_weather", '{"city": "Paris"}') for i in range(len(tool_contents))]
    return [
        UserPromptMessage(content="Weather in Paris, with the radar picture?"),
        AssistantPromptMessage(content="", tool_calls=calls),
        *[
            ToolPromptMessage(content=c, tool_call_id=f"call_{i}", name="get_weather")
            for i, c in enumerate(tool_contents)
        ],
    ]


def _sent(
    messages, *, abilities=("chat", "tools"), tools=(WEATHER_TOOL,), stream=False, params=None, **creds_
):
    DESCRIPTIONS.clear()
    SCHEMAS.clear()
    with responses.RequestsMock() as mock:
        add_description(mock, model_ability=list(abilities))
        mock.post(CHAT_URL, json=fixture_json("llm_05_chat_nonstream.json"))
        invoke("test-llm", messages, params, stream=stream, tools=list(tools) or None, **creds_)
        (body,) = sent_bodies(mock)
    return body


# ---- tool results with files -------------------------------------------------------------------


def test_an_image_from_a_tool_follows_in_a_user_message_for_a_vision_model():
    result = [TextPromptMessageContent(data="18°C, sunny"), _image(filename="radar.png")]
    body = _sent(_agent_turn(result), abilities=("chat", "tools", "vision"))
    tool, files = body["messages"][2:]
    assert tool == {
        "role": "tool",
        "tool_call_id": "call_0",
        "content": "18°C, sunny\n[image radar.png: attached in the next message]",
        "name": "get_weather",
    }
    assert files["role"] == "user"
    assert files["content"][0] == {"type": "text", "text": "Files returned by the tool calls above:"}
    assert files["content"][1] == {
        "type": "image_url",
        "image_url": {"url": f"data:image/png;base64,{PNG}", "detail": "low"},
    }


def test_an_image_from_a_tool_becomes_a_placeholder_for_a_text_only_model():
    body = _sent(_agent_turn([_image()]))
    assert body["messages"][-1] == {
        "role": "tool",
        "tool_call_id": "call_0",
        "content": "[image returned by the tool: this model cannot read image files]",
        "name": "get_weather",
    }


def test_files_of_parallel_tool_results_follow_after_the_last_result():
    doc = DocumentPromptMessageContent(format="pdf", base64_data="JVBERi0=", mime_type="application/pdf")
    audio = AudioPromptMessageContent(format="mp3", base64_data="SUQz", mime_type="audio/mpeg")
    body = _sent(_agent_turn([_image()], [audio, doc]), abilities=("chat", "tools", "vision"))
    roles = [m["role"] for m in body["messages"]]
    assert roles == ["user", "assistant", "tool", "tool", "user"]
    assert "cannot read audio files" in body["messages"][3]["content"]
    assert "cannot read document files" in body["messages"][3]["content"]
    assert [p["type"] for p in body["messages"][4]["content"]] == ["text", "image_url"]


@pytest.mark.parametrize("empty", ["", None])
def test_an_empty_tool_result_is_sent_as_empty_text(empty):
    body = _sent(_agent_turn(empty))
    assert body["messages"][-1] == {
        "role": "tool",
        "tool_call_id": "call_0",
        "content": "",
        "name": "get_weather",
    }


def test_an_image_tool_result_never_raises_when_streamed():
    DESCRIPTIONS.clear()
    with responses.RequestsMock() as mock:
        add_description(mock)
        add_stream(mock, "llm_10_chat_tools_stream_raw_sse.txt")
        chunks = invoke("test-llm", _agent_turn([_image()]), stream=True, tools=[WEATHER_TOOL])
        (body,) = sent_bodies(mock)
    assert chunks[-1].delta.finish_reason is not None
    assert body["messages"][-1]["content"].startswith("[image returned by the tool")


# ---- system messages ---------------------------------------------------------------------------


def test_several_leading_system_messages_become_one():
    messages = [
        SystemPromptMessage(content="You are Dify's agent."),
        SystemPromptMessage(content="Answer in French."),
        UserPromptMessage(content="Hi"),
    ]
    body = _sent(messages, tools=())
    assert body["messages"] == [
        {"role": "system", "content": "You are Dify's agent.\n\nAnswer in French."},
        {"role": "user", "content": "Hi"},
    ]


def test_a_later_system_message_stays_in_place_unless_the_template_is_strict():
    messages = [
        SystemPromptMessage(content="A"),
        UserPromptMessage(content="Hi"),
        SystemPromptMessage(content="B"),
    ]
    assert [m["role"] for m in _sent(messages, tools=())["messages"]] == ["system", "user", "system"]
    DESCRIPTIONS.clear()
    with responses.RequestsMock() as mock:
        add_description(mock, strict_system_first=True)
        mock.post(CHAT_URL, json=fixture_json("llm_05_chat_nonstream.json"))
        invoke("test-llm", messages, stream=False)
        (body,) = sent_bodies(mock)
    assert body["messages"] == [{"role": "system", "content": "A\n\nB"}, {"role": "user", "content": "Hi"}]


# ---- tool_choice -------------------------------------------------------------------------------


def _invoke_direct(tool_choice, mock_answers, *, tools=(WEATHER_TOOL,), stream=False):
    """`_invoke` with the keyword a newer SDK passes (0.10.2 has no tool_choice)."""
    DESCRIPTIONS.clear()
    SCHEMAS.clear()
    with responses.RequestsMock() as mock:
        add_description(mock)
        for answer in mock_answers:
            mock.post(CHAT_URL, **answer)
        llm = XinferenceLargeLanguageModel(model_schemas=[])
        llm.started_at = 0.0
        result = llm._invoke(
            "test-llm",
            creds(),
            [UserPromptMessage(content="Weather in Paris?")],
            {},
            list(tools) or None,
            None,
            stream,
            "u",
            tool_choice=tool_choice,
        )
        if stream:
            list(result)
        return sent_bodies(mock)


@pytest.mark.parametrize(
    ("dify", "sent"),
    [
        ({"mode": "required"}, "required"),
        ({"mode": "none"}, "none"),
        ({"mode": "auto"}, "auto"),
        ({"mode": "tool", "name": "get_weather"}, {"type": "function", "function": {"name": "get_weather"}}),
        ("required", "required"),
        (
            {"type": "function", "function": {"name": "get_weather"}},
            {"type": "function", "function": {"name": "get_weather"}},
        ),
    ],
)
def test_tool_choice_is_forwarded_in_openai_form(dify, sent):
    (body,) = _invoke_direct(dify, [{"json": fixture_json("llm_09_chat_tools_nonstream.json")}])
    assert body["tool_choice"] == sent


def test_tool_choice_without_tools_or_naming_an_unknown_tool_is_not_sent(caplog):
    (body,) = _invoke_direct(
        {"mode": "required"}, [{"json": fixture_json("llm_05_chat_nonstream.json")}], tools=()
    )
    assert "tool_choice" not in body
    with caplog.at_level(logging.WARNING, logger="models.llm.tool_calls"):
        (body,) = _invoke_direct(
            {"mode": "tool", "name": "nope"}, [{"json": fixture_json("llm_09_chat_tools_nonstream.json")}]
        )
    assert "tool_choice" not in body
    warned = [r.getMessage() for r in caplog.records if r.name == "models.llm.tool_calls"]
    assert warned == ["tool_choice names 'nope', which is not among the tools sent; not forwarded"]


def test_tool_choice_as_a_model_parameter_is_forwarded_too():
    body = _sent([UserPromptMessage(content="Weather?")], params={"tool_choice": "required"})
    # the SDK keeps only parameters the schema declares: no rule, so nothing arrives (dify_plugin 0.10.2)
    assert "tool_choice" not in body


@pytest.mark.parametrize("stream", [False, True])
def test_a_refused_tool_choice_is_dropped_with_a_log_line(stream, caplog):
    refusal = {
        "status": 400,
        "json": {"detail": "Forced tool_choice is not supported by the transformers engine"},
    }
    if stream:
        sse = (
            'data: {"choices": [{"index": 0, "delta": {"content": "ok"}, "finish_reason": "stop"}]}\r\n\r\n'
            "data: [DONE]\r\n\r\n"
        )
        answer = {"body": sse, "content_type": "text/event-stream"}
    else:
        answer = {"json": fixture_json("llm_09_chat_tools_nonstream.json")}
    with caplog.at_level(logging.WARNING, logger="models.llm.tool_calls"):
        first, second = _invoke_direct({"mode": "required"}, [refusal, answer], stream=stream)
    assert first["tool_choice"] == "required" and "tool_choice" not in second
    assert {k: v for k, v in first.items() if k != "tool_choice"} == second
    assert "refused tool_choice 'required'" in caplog.text


@pytest.mark.parametrize("status", [400, 422, 500, 501])
def test_a_tool_choice_refusal_is_retried_whatever_status_the_engine_gives_it(status):
    refusal = {"status": status, "json": {"detail": "Forced tool_choice is not supported by the MLX engine"}}
    answer = {"json": fixture_json("llm_09_chat_tools_nonstream.json")}
    first, second = _invoke_direct({"mode": "required"}, [refusal, answer])
    assert first["tool_choice"] == "required" and "tool_choice" not in second


def test_a_server_busy_naming_tool_choice_is_not_a_refusal_of_it():
    busy = {"status": 503, "json": {"detail": "model still loading; tool_choice requests queued"}}
    with pytest.raises(InvokeServerUnavailableError, match="tool_choice requests queued"):
        _invoke_direct({"mode": "required"}, [busy])


def test_any_other_error_is_not_retried():
    with pytest.raises(Exception, match="model crashed"):
        _invoke_direct({"mode": "required"}, [{"status": 500, "json": {"detail": "model crashed"}}])


def test_tool_choice_in_a_real_recorded_dify_shape_round_trips_json():
    # the daemon's JSON (pkg/entities/requests/model.go): {"mode": "tool", "name": …}
    raw = json.loads('{"mode": "tool", "name": "get_weather"}')
    (body,) = _invoke_direct(raw, [{"json": fixture_json("llm_09_chat_tools_nonstream.json")}])
    assert body["tool_choice"]["function"]["name"] == "get_weather"
