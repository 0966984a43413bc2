"""Reasoning inline in content: `<think>…</think>`, a lone `…</think>` (the template opened the block) and
an empty `<think></think>` all reach Dify as one well-formed block, or none, streamed and blocking."""

from __future__ import annotations

import itertools
import json

import pytest

from models.llm.reasoning import InlineThink, expects_reasoning, split_inline_think
from tests.helpers import fixture_bytes, fixture_json
from tests.llm.support import WEATHER_TOOL, answer_to, chunk, content, sse
from tests.llm.support import tool_calls as calls_of

HELLO = "Hello! I am a tiny test model."
THINKING = "<think>\nThe user greets me.\n</think>\n\n" + HELLO
ALWAYS_THINKS = {"model_ability": ["generate", "chat", "reasoning"]}  # a QwQ / R1-distill description


def recorded_contents(name: str) -> list[str]:
    text = fixture_bytes(name).decode().replace("\r\n", "\n")
    events = [json.loads(e[6:]) for e in text.split("\n\n") if e.startswith("data: {")]
    return [c["delta"].get("content") or "" for e in events for c in e["choices"]]


def template_opened(pieces: list[str]) -> list[str]:
    """The same answer from a template that writes `<think>\\n` into the prompt: the model never emits it."""
    joined = "".join(pieces)
    assert joined.startswith("<think>\n")
    first = next(i for i, piece in enumerate(pieces) if "<think>\n" in piece)
    return [*pieces[:first], pieces[first].replace("<think>\n", "", 1), *pieces[first + 1 :]]


def stream_of(pieces: list[str]) -> bytes:
    frames = [chunk({"role": "assistant", "content": ""})]
    frames += [chunk({"content": p}) for p in pieces if p]
    return sse(*frames, chunk({"content": ""}, "stop", usage={"prompt_tokens": 19, "completion_tokens": 29}))


def blocking_answer(text: str) -> dict:
    data = fixture_json("reasoning_B03_chat_default_nonstream.json")
    data["choices"][0]["message"]["content"] = text
    return data


# ---- the recorded inline block (parser off, launch B) ---------------------------------------------------


def test_recorded_inline_think_stream_reads_as_one_block():
    chunks = answer_to("reasoning_B10_chat_default_stream_raw_sse.txt", params={"enable_thinking": True})
    assert content(chunks) == THINKING


def test_recorded_inline_think_blocking():
    data = fixture_json("reasoning_B03_chat_default_nonstream.json")
    assert content(answer_to(data, stream=False)) == THINKING


def test_recorded_inline_think_and_tool_markup_stream():
    chunks = answer_to("reasoning_B14_tools_default_stream_raw_sse.txt", tools=[WEATHER_TOOL])
    assert content(chunks).strip() == "<think>\nI should call get_weather.\n</think>"
    assert [name for name, _ in calls_of(chunks)] == ["get_weather"]


# ---- a lone closing tag --------------------------------------------------------------------------------


def test_lone_closing_tag_streamed_from_a_model_that_always_thinks():
    pieces = template_opened(recorded_contents("reasoning_B10_chat_default_stream_raw_sse.txt"))
    assert not "".join(pieces).startswith("<think>")
    chunks = answer_to(stream_of(pieces), uid="test-llm", **ALWAYS_THINKS)
    assert content(chunks) == THINKING
    # streamed as it is generated: the reasoning is shown before the closing tag arrives
    shown = [c.delta.message.content for c in chunks if c.delta.message.content]
    assert shown[0].startswith("<think>\nThe us")


def test_lone_closing_tag_streamed_when_thinking_is_switched_on():
    pieces = template_opened(recorded_contents("reasoning_B10_chat_default_stream_raw_sse.txt"))
    chunks = answer_to(stream_of(pieces), params={"enable_thinking": True})
    assert content(chunks) == THINKING


def test_lone_closing_tag_blocking_on_any_model():
    answer = blocking_answer("The user greets me.\n</think>\n\n" + HELLO)
    chunks = answer_to(answer, uid="test-llm", stream=False)
    assert content(chunks) == THINKING


@pytest.mark.parametrize("cuts", list(itertools.combinations(range(1, 40, 3), 2)))
def test_lone_closing_tag_any_split(cuts):
    text = "\nThe user greets me.\n</think>\n\n" + HELLO
    bounds = [0, *cuts, len(text)]
    pieces = [text[a:b] for a, b in itertools.pairwise(bounds)]
    splitter = InlineThink(expect_reasoning=True)
    parts = [splitter.feed(p) for p in pieces] + [splitter.close()]
    assert "".join(r for r, _ in parts) == "\nThe user greets me.\n"
    assert "".join(a for _, a in parts) == "\n\n" + HELLO


def test_reasoning_cut_off_before_its_closing_tag_is_all_reasoning():
    chunks = answer_to(stream_of(["\nThe us", "er g"]), uid="test-llm", **ALWAYS_THINKS)
    assert content(chunks) == "<think>\nThe user g\n</think>"


def test_a_model_that_may_not_think_streams_its_answer_untouched():
    # hybrid, switch unset: the launch default decides, so a plain first token is the answer
    chunks = answer_to(stream_of(["Hel", "lo!", " I am a tiny test model."]))
    assert content(chunks) == HELLO


def test_a_model_that_always_thinks_reads_its_first_text_as_reasoning():
    chunks = answer_to(stream_of(["Hel", "lo"]), uid="test-llm", **ALWAYS_THINKS)
    assert content(chunks) == "<think>\nHello\n</think>"


def test_the_request_switch_decides_before_the_kind_of_model():
    assert expects_reasoning(True, None) is True
    assert expects_reasoning(True, False) is False
    assert expects_reasoning(False, True) is True
    assert expects_reasoning(False, None) is False


def test_an_answer_that_starts_with_a_tool_call_is_not_reasoning():
    call = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'
    chunks = answer_to(
        stream_of([call[:3], call[3:20], call[20:]]), uid="test-llm", tools=[WEATHER_TOOL], **ALWAYS_THINKS
    )
    assert calls_of(chunks) == [("get_weather", '{"city": "Paris"}')]
    assert content(chunks) == ""


# ---- the empty block --------------------------------------------------------------------------------------


@pytest.mark.parametrize("empty", ["<think></think>", "<think>\n\n</think>\n\n", "\n<think>\n</think>\n"])
def test_an_empty_think_block_is_dropped(empty):
    assert content(answer_to(blocking_answer(empty + HELLO), stream=False)) == HELLO
    pieces = [empty[:4], empty[4:9], empty[9:], "Hel", "lo! I am a tiny test model."]
    assert content(answer_to(stream_of(pieces))) == HELLO


def test_text_that_only_looks_like_a_tag_start_is_kept():
    assert split_inline_think("<thin ice", expect_reasoning=False) == ("", "<thin ice")
    assert split_inline_think("<", expect_reasoning=False) == ("", "<")
    assert split_inline_think("  ", expect_reasoning=True) == ("", "  ")


def test_tool_markup_inside_reasoning_is_not_a_call():
    call = '<tool_call>{"name": "get_weather", "arguments": {}}</tool_call>'
    text = f"<think>\nI could write {call}\n</think>\n\nNo."
    chunks = answer_to(blocking_answer(text), uid="test-llm", stream=False, tools=[WEATHER_TOOL])
    assert calls_of(chunks) == []
    assert content(chunks).endswith("</think>\n\nNo.")
