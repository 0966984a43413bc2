"""Prompt messages: every message role, the tool history round trip, strict system-first templates, and
completion prompts. Content parts (images, video, audio, files): test_llm_message_parts.py."""

from __future__ import annotations

import json
import re

import pytest
import responses
from dify_plugin.entities.model.message import (
    AssistantPromptMessage,
    DeveloperPromptMessage,
    ImagePromptMessageContent,
    SystemPromptMessage,
    TextPromptMessageContent,
    ToolPromptMessage,
    UserPromptMessage,
)
from dify_plugin.errors.model import InvokeBadRequestError

from models.llm.messages import completion_prompt
from models.llm.request import completion_body
from tests.helpers import fixture_json
from tests.llm.messages_support import call, sent_messages
from tests.llm.support import (
    COMPLETIONS_URL,
    WEATHER_TOOL,
    add_description,
    add_stream,
    content,
    invoke,
    sent_bodies,
    tool_calls,
)


def test_system_user_assistant_messages():
    messages = [
        SystemPromptMessage(content="Be brief."),
        UserPromptMessage(content="Hi"),
        AssistantPromptMessage(content="Hello!"),
        UserPromptMessage(content=[TextPromptMessageContent(data="And now?")]),
    ]
    assert sent_messages(messages) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "And now?"},
    ]


def test_developer_role_is_sent_as_system():
    assert sent_messages([DeveloperPromptMessage(content="Rules"), UserPromptMessage(content="Hi")])[0] == {
        "role": "system",
        "content": "Rules",
    }


def test_tool_history_round_trip_keeps_every_call_and_its_id():
    """An agent turn: the model called two tools (recorded streaming answer), Dify ran them, and the
    next request carries the assistant's tool_calls and one tool message per call."""
    with responses.RequestsMock() as mock:
        add_description(mock)
        add_stream(mock, "tools_04_chat_toolcall_stream_raw_sse.txt")
        first = invoke(tools=[WEATHER_TOOL])
    (made,) = [t for c in first for t in c.delta.message.tool_calls]
    assert (made.function.name, json.loads(made.function.arguments)) == ("get_weather", {"city": "Paris"})

    history = [
        UserPromptMessage(content="Weather in Paris and Rome?"),
        AssistantPromptMessage(
            content="", tool_calls=[made, call("call_2", "get_weather", '{"city": "Rome"}')]
        ),
        ToolPromptMessage(content='{"temperature": 21}', tool_call_id=made.id, name="get_weather"),
        ToolPromptMessage(content='{"temperature": 25}', tool_call_id="call_2"),  # no name: found by id
    ]
    sent = sent_messages(history, tools=[WEATHER_TOOL])
    assert sent[1] == {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {
                "id": made.id,
                "type": "function",
                "function": {"name": "get_weather", "arguments": made.function.arguments},
            },
            {
                "id": "call_2",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Rome"}'},
            },
        ],
    }
    assert "function_call" not in sent[1]
    assert sent[2] == {
        "role": "tool",
        "tool_call_id": made.id,
        "content": '{"temperature": 21}',
        "name": "get_weather",
    }
    assert sent[3] == {
        "role": "tool",
        "tool_call_id": "call_2",
        "content": '{"temperature": 25}',
        "name": "get_weather",
    }


def test_a_tool_call_without_arguments_is_sent_with_an_empty_json_object():
    """A tool with no parameters: Dify stores the call with empty arguments; templates parse them as JSON."""
    history = [
        UserPromptMessage(content="What time is it?"),
        AssistantPromptMessage(content="", tool_calls=[call("call_1", "get_time", "")]),
        ToolPromptMessage(content="12:00", tool_call_id="call_1", name="get_time"),
    ]
    sent = sent_messages(history, tools=[WEATHER_TOOL])
    assert sent[1]["tool_calls"][0]["function"] == {"name": "get_time", "arguments": "{}"}


def test_the_model_answers_after_the_tool_result():
    history = [
        UserPromptMessage(content="What is the weather like in Paris today?"),
        AssistantPromptMessage(content="", tool_calls=[call("call_1", "get_weather", '{"city": "Paris"}')]),
        ToolPromptMessage(
            content='{"temperature": 21, "condition": "sunny"}', tool_call_id="call_1", name="get_weather"
        ),
    ]
    with responses.RequestsMock() as mock:
        add_description(mock, "test-reasoning")
        add_stream(mock, "reasoning_A16_tools_after_tool_result_stream_raw_sse.txt")
        chunks = invoke("test-reasoning", history, tools=[WEATHER_TOOL])
        (body,) = sent_bodies(mock)
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "tool"]
    assert content(chunks) == "<think>\nThe tool has answered.\n</think>\n\nHello! I am a tiny test model."
    assert tool_calls(chunks) == []
    assert chunks[-1].delta.finish_reason == "stop"


def test_strict_system_first_templates_get_one_system_message_at_the_start():
    messages = [
        UserPromptMessage(content="Hi"),
        SystemPromptMessage(content="A"),
        SystemPromptMessage(content="B"),
    ]
    assert sent_messages(messages, strict_system_first=True) == [
        {"role": "system", "content": "A\n\nB"},
        {"role": "user", "content": "Hi"},
    ]
    assert [m["role"] for m in sent_messages(messages)] == ["user", "system", "system"]


# ---- completion mode ----------------------------------------------------------------------------


def test_completion_mode_blocking_answer_from_the_generate_only_model():
    with responses.RequestsMock() as mock:
        add_description(mock, "test-llm-base")
        mock.post(COMPLETIONS_URL, json=fixture_json("llm_12_completions_nonstream_generate_model.json"))
        (result,) = invoke(
            "test-llm-base", [UserPromptMessage(content="Once upon a time")], {"max_tokens": 16}, stream=False
        )
        assert sent_bodies(mock)[0]["prompt"] == "Once upon a time"
    assert (
        result.delta.message.content
        == fixture_json("llm_12_completions_nonstream_generate_model.json")["choices"][0]["text"]
    )
    assert result.delta.finish_reason == "length"
    assert (result.delta.usage.prompt_tokens, result.delta.usage.completion_tokens) == (7, 16)


def test_completion_prompt_renders_a_conversation_as_a_transcript():
    prompt = completion_prompt(
        [
            SystemPromptMessage(content="You are terse."),
            UserPromptMessage(content="Hi"),
            AssistantPromptMessage(content="Hello."),
            UserPromptMessage(content="Bye"),
        ],
        None,
    )
    assert prompt == "You are terse.\n\nUser: Hi\n\nAssistant: Hello.\n\nUser: Bye\n\nAssistant:"


def test_completion_prompt_lets_the_model_continue_an_assistant_turn():
    prompt = completion_prompt(
        [UserPromptMessage(content="Tell a story"), AssistantPromptMessage(content="Once upon a time")], None
    )
    assert prompt == "User: Tell a story\n\nAssistant: Once upon a time"


def test_completion_prompt_of_no_messages_is_empty():
    assert completion_prompt([], None) == ""


_NO_TOOLS = (
    "This model is generate-only (completion mode) and cannot call tools; use a model with the chat and "
    "tools abilities, or an agent strategy that does not need function calling"
)
_TEXT_ONLY = (
    "This model is generate-only (completion mode): its prompt can only be text, but a message holds files"
)
_NO_TOOL_HISTORY = "A completion-mode model cannot continue a conversation with tool calls in it"


@pytest.mark.parametrize(
    ("messages", "tools", "problem"),
    [
        ([UserPromptMessage(content="hi")], [WEATHER_TOOL], _NO_TOOLS),
        (
            [
                UserPromptMessage(
                    content=[ImagePromptMessageContent(format="png", mime_type="image/png", url="u")]
                )
            ],
            None,
            _TEXT_ONLY,
        ),
        ([AssistantPromptMessage(content="", tool_calls=[call("c", "f", "{}")])], None, _NO_TOOL_HISTORY),
        ([ToolPromptMessage(content="r", tool_call_id="c")], None, _NO_TOOL_HISTORY),
    ],
)
def test_completion_mode_rejects_what_cannot_be_rendered(messages, tools, problem):
    exactly = "^" + re.escape(problem) + "$"
    with pytest.raises(InvokeBadRequestError, match=exactly):
        completion_prompt(messages, tools)
    with responses.RequestsMock() as mock:
        add_description(mock, "test-llm-base")
        with pytest.raises(InvokeBadRequestError, match=exactly):
            invoke("test-llm-base", messages, tools=tools)


def test_completion_body_never_carries_chat_only_fields():
    body = completion_body(
        "m",
        "p",
        {"enable_thinking": True, "response_format": "json_object", "json_schema": "{}"},
        stop=None,
        stream=False,
    )
    assert body == {"model": "m", "prompt": "p", "stream": False}
