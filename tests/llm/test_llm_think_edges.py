"""Think blocks at their edges: an answer cut inside the closing tag, an answer that quotes the tag, a
second reasoning block, blank deltas after an empty block, server-split reasoning with thinking on, and
think tags a user wrote."""

from __future__ import annotations

import pytest
import responses
from dify_plugin.entities.model.message import UserPromptMessage

from models._xinference.process_state import reset_process_state
from models.llm.reasoning import ThinkWrapper
from tests.helpers import fixture_json
from tests.llm.support import (
    CHAT_URL,
    add_description,
    answer_to,
    chunk,
    content,
    invoke,
    sent_bodies,
    sse,
)

HELLO = "Hello! I am a tiny test model."
ALWAYS_THINKS = {"model_ability": ["generate", "chat", "reasoning"]}  # a QwQ / R1-distill description


def stream_of(pieces: list[str], finish: str = "stop") -> bytes:
    return sse(*[chunk({"content": p}) for p in pieces], chunk({}, finish))


def chat(body, **options) -> str:
    return content(answer_to(body, **options))


def blocking_answer(text: str) -> dict:
    data = fixture_json("reasoning_B03_chat_default_nonstream.json")
    data["choices"][0]["message"]["content"] = text
    return data


# ---- cut off by max_tokens inside "</think>" ------------------------------------------------------------


def test_a_block_the_model_opened_and_cut_inside_its_closing_tag_stays_reasoning():
    """The held-back "</th" was not a closing tag after all: it is the end of the reasoning, not an answer."""
    shown = chat(stream_of(["<think>\nLet me think", "</th"], "length"), uid="test-llm")
    assert shown == "<think>\nLet me think</th\n</think>"


def test_a_block_the_template_opened_and_cut_inside_its_closing_tag_stays_reasoning():
    shown = chat(stream_of(["\nLet me think", "</thi"], "length"), uid="test-llm", **ALWAYS_THINKS)
    assert shown == "<think>\nLet me think</thi\n</think>"


def test_an_undecided_tag_start_at_the_end_is_the_answer():
    assert chat(stream_of(["<thi"]), uid="test-llm") == "<thi"


# ---- the closing tag quoted in the answer -----------------------------------------------------------------


@pytest.mark.parametrize("stream", [True, False])
def test_only_the_first_closing_tag_ends_the_reasoning(stream):
    text = "<think>\nExplain the tag.\n</think>\n\nA block ends with </think> on its own."
    body = stream_of([text]) if stream else blocking_answer(text)
    assert chat(body, stream=stream, uid="test-llm") == text


# ---- whitespace after an empty block ------------------------------------------------------------------


def test_blank_deltas_after_an_empty_block_are_dropped_and_the_answer_kept_whole():
    pieces = ["<think></think>", "\n\n", "\n", "Hello!", " I am", " a tiny test model."]
    assert chat(stream_of(pieces)) == HELLO


# ---- a second reasoning block -------------------------------------------------------------------------


def test_a_second_reasoning_block_after_an_answer_is_its_own_well_formed_block():
    wrapper = ThinkWrapper()
    deltas = [("\nFirst.\n", None), (None, "Answer."), ("\nSecond.\n", None), (None, "More.")]
    shown = "".join(wrapper.feed(r, c) for r, c in deltas) + wrapper.close()
    assert shown == "<think>\nFirst.\n</think>Answer.<think>\nSecond.\n</think>More."


def test_a_closed_wrapper_adds_nothing_when_closed_again():
    wrapper = ThinkWrapper()
    assert wrapper.feed("\nWhy.\n", "Because.") == "<think>\nWhy.\n</think>Because."
    assert (wrapper.close(), wrapper.close()) == ("", "")


# ---- the server split the reasoning out, thinking switched on ------------------------------------------


def test_server_split_reasoning_with_thinking_on_keeps_the_content_as_answer():
    """With the switch on, plain content would open an inline block: after reasoning_content it must not."""
    shown = chat("reasoning_A10_chat_default_stream_raw_sse.txt", params={"enable_thinking": True})
    assert shown == "<think>\nThe user greets me.\n</think>\n\n" + HELLO


# ---- think tags the user wrote ----------------------------------------------------------------------------


@pytest.mark.parametrize("family", ["Kimi-K2.5", "qwen3"])
def test_think_tags_in_a_user_message_are_sent_as_written(family):
    """Only assistant messages carry reasoning: a user who quotes the tags is not rewritten."""
    quoted = "Why does <think>\nplan\n</think> appear in your answers?"
    reset_process_state()
    with responses.RequestsMock() as mock:
        add_description(mock, "test-llm", model_family=family)
        mock.post(CHAT_URL, json=fixture_json("llm_05_chat_nonstream.json"))
        invoke("test-llm", [UserPromptMessage(content=quoted)], stream=False)
        (sent,) = sent_bodies(mock)
    assert sent["messages"] == [{"role": "user", "content": quoted}]
