"""Earlier answers' reasoning is not fed back: think blocks leave assistant history, nothing else does."""

from __future__ import annotations

import pytest
import responses
from dify_plugin.entities.model.message import (
    AssistantPromptMessage,
    SystemPromptMessage,
    ToolPromptMessage,
    UserPromptMessage,
)

from models.llm.reasoning import without_reasoning
from tests.helpers import fixture_json
from tests.llm.support import CHAT_URL, COMPLETIONS_URL, add_description, content, invoke, sent_bodies
from tests.llm.test_llm_messages import call, sent_messages

ANSWER = "Hello! I am a tiny test model."


def stored_answer() -> str:
    """What Dify stored for the recorded reasoning answer: the text the plugin returned for it."""
    with responses.RequestsMock() as mock:
        add_description(mock, "test-reasoning")
        mock.post(CHAT_URL, json=fixture_json("reasoning_A03_chat_default_nonstream.json"))
        return content(invoke("test-reasoning", stream=False))


def test_the_recorded_reasoning_answer_goes_back_without_its_think_block():
    stored = stored_answer()
    assert stored.startswith("<think>\nThe user greets me.\n</think>")
    sent = sent_messages(
        [
            UserPromptMessage(content="Hi"),
            AssistantPromptMessage(content=stored),
            UserPromptMessage(content="And?"),
        ],
        "test-reasoning",
    )
    assert sent[1] == {"role": "assistant", "content": ANSWER}
    assert "greets" not in str(sent)


@pytest.mark.parametrize(
    ("stored", "answer"),
    [
        ("<think>\na\n</think>\n\nOne<think>b</think> two", "One two"),  # every block, not only the first
        ("<think>\na\n</think>\n\n<think>\nb\n</think>\n\nAnswer", "Answer"),
        ("The prompt opened it.\n</think>\n\nAnswer", "Answer"),  # a lone closing tag (QwQ, R1 distills)
        ("lone\n</think>Answer<think>more</think>!", "Answer!"),
        ("<think>\ncut off while thinking", ""),  # unclosed at the end: all of it was reasoning
        ("Answer <think>unfinished", "Answer"),
        ("<think></think>Answer", "Answer"),
        ("</think>\n\nAnswer", "Answer"),  # the prompt opened it and the model closed it at once
        ("Checking.<think>a</think> Found it.<think>b</think> Done.", "Checking. Found it. Done."),
        ("Answer.<think>cut off, it wrote <think> again", "Answer."),  # cut at the first unclosed tag
        ("No reasoning at all.\n", "No reasoning at all.\n"),  # untouched, whitespace included
    ],
)
def test_every_form_of_stored_reasoning_is_removed(stored, answer):
    assert without_reasoning(stored) == answer


def test_the_current_turn_and_tool_call_history_are_untouched():
    thought = "<think>\nI should call get_weather.\n</think>\n\n"
    messages = [
        SystemPromptMessage(content="<think>system text is not an answer</think>"),
        UserPromptMessage(content="<think>a user may write this</think> weather?"),
        AssistantPromptMessage(content=thought, tool_calls=[call("c1", "get_weather", '{"city": "Paris"}')]),
        ToolPromptMessage(content="<think>tool output</think>", tool_call_id="c1", name="get_weather"),
        AssistantPromptMessage(content=thought + "It is sunny."),
        UserPromptMessage(content="And tomorrow?"),
        AssistantPromptMessage(content=thought, tool_calls=[call("c2", "get_weather", '{"city": "Paris"}')]),
        ToolPromptMessage(content="rain", tool_call_id="c2", name="get_weather"),
        AssistantPromptMessage(content="<think>\nthe turn being answered\n</think>\n\n"),
    ]
    sent = sent_messages(messages, "test-llm-tools")
    assert [m["content"] for m in sent] == [
        "<think>system text is not an answer</think>",
        "<think>a user may write this</think> weather?",
        thought,  # carries tool calls: left as it is
        "<think>tool output</think>",
        "It is sunny.",  # an earlier plain answer: reasoning gone
        "And tomorrow?",
        thought,
        "rain",
        "<think>\nthe turn being answered\n</think>\n\n",  # after the last user message: untouched
    ]


def test_completion_mode_transcripts_drop_earlier_reasoning_too():
    with responses.RequestsMock() as mock:
        add_description(mock, "test-llm-base")
        mock.post(COMPLETIONS_URL, json=fixture_json("llm_12_completions_nonstream_generate_model.json"))
        messages = [
            UserPromptMessage(content="Hi"),
            AssistantPromptMessage(content="<think>\nhmm\n</think>\n\nHello!"),
            UserPromptMessage(content="Bye"),
        ]
        invoke("test-llm-base", messages, stream=False)
        (body,) = sent_bodies(mock)
    assert body["prompt"] == "User: Hi\n\nAssistant: Hello!\n\nUser: Bye\n\nAssistant:"
