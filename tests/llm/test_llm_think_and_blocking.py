"""Reasoning wrapped as <think>\\n…\\n</think> for any chunking, and blocking answers."""

from __future__ import annotations

import itertools
import json

import pytest
import responses
from dify_plugin.errors.model import InvokeServerUnavailableError

from models.llm.reasoning import ThinkWrapper, wrap_reasoning
from tests.helpers import fixture_bytes, fixture_json
from tests.llm.support import CHAT_URL, WEATHER_TOOL, add_description, creds, hello, invoke, model

HELLO_THINKING = "<think>\nThe user greets me.\n</think>\n\nHello! I am a tiny test model."
REASONING, ANSWER = "\nThe user greets me.\n", "\n\nHello! I am a tiny test model."


def recorded_deltas(name):
    text = fixture_bytes(name).decode().replace("\r\n", "\n")
    events = [json.loads(e[6:]) for e in text.split("\n\n") if e.startswith("data: {")]
    return [
        (c["delta"].get("reasoning_content"), c["delta"].get("content")) for e in events for c in e["choices"]
    ]


def wrap(deltas):
    wrapper = ThinkWrapper()
    return "".join(wrapper.feed(r, c) for r, c in deltas) + wrapper.close()


def splits(text, cuts):
    bounds = [0, *cuts, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


# ---- the wrapper ---------------------------------------------------------------------------------------


def test_recorded_reasoning_stream_reads_exactly_as_dify_expects():
    assert wrap(recorded_deltas("reasoning_A10_chat_default_stream_raw_sse.txt")) == HELLO_THINKING


# Where a cut can change the result: the newline the wrapper drops at the start and the one it holds
# back at the end, each alone in a delta or attached to its neighbours, and tiny pieces in between.
# REASONING = "\nThe user greets me.\n": index 1 is "T", 4 a space, 19 the ".", 20 the last newline.
CUTS = {
    "first-newline-alone": (1, 10),
    "last-newline-alone": (10, 20),
    "both-newlines-alone": (1, 20),
    "one-letter-after-the-first-newline": (1, 2),
    "one-letter-before-the-last-newline": (19, 20),
    "newlines-attached-to-their-neighbours": (2, 19),
    "a-space-alone": (4, 5),
    "every-character-alone": tuple(range(1, len(REASONING))),
}


@pytest.mark.parametrize("cuts", list(CUTS.values()), ids=list(CUTS))
def test_any_split_of_the_reasoning_gives_the_same_text(cuts):
    deltas = [(piece, None) for piece in splits(REASONING, cuts)] + [(None, ANSWER)]
    assert wrap(deltas) == HELLO_THINKING


@pytest.mark.parametrize("cut", range(len(ANSWER) + 1))
def test_the_delta_that_ends_reasoning_may_carry_both(cut):
    head, tail = ANSWER[:cut], ANSWER[cut:]
    deltas = [(REASONING[:5], None), (REASONING[5:], head or None), (None, tail or None)]
    assert wrap(deltas) == HELLO_THINKING


def test_blank_lines_inside_the_reasoning_survive_chunk_edges():
    assert wrap([("\nfirst\n", None), ("\nsecond\n\n", None), (None, "answer")]) == (
        "<think>\nfirst\n\nsecond\n\n</think>answer"
    )


def test_reasoning_without_newlines_is_wrapped_like_the_sdk_does():
    assert wrap([("Okay, the user", None), (" says hi.", None), (None, "Hi!")]) == (
        "<think>\nOkay, the user says hi.\n</think>Hi!"
    )


def test_empty_reasoning_opens_no_block():
    assert wrap([("", None), ("\n", None), (None, "Hi")]) == "Hi"
    assert wrap([("", "Hi")]) == "Hi"


def test_content_with_inline_think_tags_is_untouched():
    inline = "<think>\nhmm\n</think>\n\nHi"
    assert wrap([(None, inline[:9]), (None, inline[9:])]) == inline
    assert wrap_reasoning(None, inline) == inline


def test_blocking_wrap_matches_streaming():
    assert wrap_reasoning(REASONING, ANSWER) == HELLO_THINKING
    assert wrap_reasoning("", "plain") == "plain"
    assert wrap_reasoning("\nThe us", "") == "<think>\nThe us\n</think>"


def test_only_the_newlines_around_the_reasoning_are_dropped_its_last_characters_stay():
    assert wrap([("\nPick X", None), ("\n", None), (None, "X")]) == "<think>\nPick X\n</think>X"
    assert wrap([("\nPick it. ", None), ("\n", None), (None, "OK")]) == "<think>\nPick it. \n</think>OK"


# ---- blocking answers ------------------------------------------------------------------------------


def blocking(fixture, uid="test-reasoning", tools=None, params=None):
    """The blocking answer Dify gets for a recorded reply (a fixture name) or a reply given as a dict."""
    with responses.RequestsMock() as mock:
        add_description(mock, uid)
        mock.post(CHAT_URL, json=fixture_json(fixture) if isinstance(fixture, str) else fixture)
        (result,) = invoke(uid, None, params, stream=False, tools=tools)
    return result.delta


def _reply(message, finish="stop"):
    return {
        "object": "chat.completion",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
    }


def test_blocking_reasoning_under_the_newer_reasoning_key_is_wrapped_too():
    """Servers following vLLM's newer naming send the reasoning as `reasoning`, not `reasoning_content`."""
    message = {"role": "assistant", "content": ANSWER, "reasoning": REASONING}
    assert blocking(_reply(message)).message.content == HELLO_THINKING


def test_blocking_reasoning_cut_before_its_closing_tag_is_reasoning_when_thinking_is_on():
    """B18 as a template that opens the block in the prompt leaves it: no tag at all in the content."""
    cut = _reply({"role": "assistant", "content": "\nThe us"}, finish="length")
    delta = blocking(cut, params={"enable_thinking": True})
    assert (delta.message.content, delta.finish_reason) == ("<think>\nThe us\n</think>", "length")


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ({"object": "chat.completion", "choices": []}, "the answer has no choices"),
        ({"object": "chat.completion"}, "the answer has no choices"),
        (["not", "an", "object"], "the answer has no choices"),
        ({"choices": ["text"]}, "the answer has no choices"),
        ({"choices": [{"index": 0, "finish_reason": "stop"}]}, "the choice has no message"),
    ],
)
def test_a_blocking_answer_without_a_usable_choice_is_an_error_naming_the_call(answer, problem):
    with pytest.raises(InvokeServerUnavailableError) as failed:
        blocking(answer)
    assert (
        str(failed.value)
        == f"Xinference sent an unusable answer to chat with model 'test-reasoning': {problem}"
    )


def test_blocking_reasoning_answer():
    delta = blocking("reasoning_A03_chat_default_nonstream.json")
    assert delta.message.content == HELLO_THINKING
    assert delta.finish_reason == "stop"
    assert (delta.usage.prompt_tokens, delta.usage.completion_tokens, delta.usage.total_tokens) == (
        19,
        28,
        47,
    )


def test_blocking_inline_think_passes_through():
    assert blocking("reasoning_B03_chat_default_nonstream.json").message.content == HELLO_THINKING


def test_blocking_thinking_off():
    delta = blocking("reasoning_A05_chat_toplevel_thinking_false_nonstream.json")
    assert delta.message.content == "Hello! I am a tiny test model."
    assert (delta.usage.prompt_tokens, delta.usage.completion_tokens) == (23, 15)


def test_blocking_reasoning_and_tool_call():
    delta = blocking("reasoning_A07_tools_default_nonstream.json", tools=[WEATHER_TOOL])
    assert delta.message.content == "<think>\nI should call get_weather.\n</think>\n\n"
    assert [(t.function.name, t.function.arguments) for t in delta.message.tool_calls] == [
        ("get_weather", '{"city": "Paris"}')
    ]
    assert delta.message.tool_calls[0].id == "call_f20b16de-886a-4b69-a8d1-347764cbf8b8"
    assert delta.finish_reason == "tool_calls"
    assert (delta.usage.prompt_tokens, delta.usage.completion_tokens) == (165, 54)


def test_blocking_plain_answer_cut_by_max_tokens():
    delta = blocking("llm_05_chat_nonstream.json", "test-llm")
    assert (
        delta.message.content
        == fixture_json("llm_05_chat_nonstream.json")["choices"][0]["message"]["content"]
    )
    assert delta.finish_reason == "length"
    assert (delta.usage.prompt_tokens, delta.usage.completion_tokens) == (35, 16)


def test_blocking_result_object_from_invoke():
    with responses.RequestsMock() as mock:
        add_description(mock, "test-reasoning")
        mock.post(CHAT_URL, json=fixture_json("reasoning_A03_chat_default_nonstream.json"))
        llm = model()
        llm.started_at = 1.0
        result = llm._invoke("m", creds("test-reasoning"), hello(), {}, stream=False)
    assert result.message.content == HELLO_THINKING
    assert result.finish_reason == "stop"
    assert result.usage.total_tokens == 47
