"""Shared by the LLM message tests (test_llm_messages.py, test_llm_message_parts.py): what the
plugin sends as `messages` for a given prompt and model description, and a tool call builder."""

from __future__ import annotations

import responses
from dify_plugin.entities.model.message import AssistantPromptMessage

from models._xinference.process_state import reset_process_state
from tests.helpers import fixture_json
from tests.llm.support import CHAT_URL, add_description, invoke, sent_bodies

ToolCall = AssistantPromptMessage.ToolCall


def sent_messages(messages, uid="test-llm", tools=None, **description):
    reset_process_state()  # each call stands for its own model configuration
    with responses.RequestsMock() as mock:
        add_description(mock, uid, **description)
        mock.post(CHAT_URL, json=fixture_json("llm_05_chat_nonstream.json"))
        invoke(uid, messages, stream=False, tools=tools)
        (body,) = sent_bodies(mock)
    return body["messages"]


def call(call_id, name, arguments):
    return ToolCall(
        id=call_id, type="function", function=ToolCall.ToolCallFunction(name=name, arguments=arguments)
    )
