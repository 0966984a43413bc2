"""Streamed deltas in their less common shapes: reasoning under vLLM's newer `reasoning` key, a chunk
without a delta, reasoning that resumes after a tool call, a tag start held back to the end with tools
on, and a generate stream whose server reports no usage."""

from __future__ import annotations

import responses

from models._xinference.process_state import reset_process_state
from tests.llm.support import (
    COMPLETIONS_URL,
    WEATHER_TOOL,
    add_description,
    add_stream,
    chunk,
    content,
    invoke,
    sse,
    tool_calls,
)

HELLO_THINKING = "<think>\nThe user greets me.\n</think>\n\nHello! I am a tiny test model."


def streamed(*events, uid="test-llm", tools=None, url=None):
    reset_process_state()
    with responses.RequestsMock() as mock:
        add_description(mock, uid)
        add_stream(mock, sse(*events), **({"url": url} if url else {}))
        return invoke(uid, tools=tools)


def test_reasoning_under_the_newer_reasoning_key_is_wrapped_in_a_stream():
    chunks = streamed(
        chunk({"role": "assistant", "reasoning": "\nThe user greets me.\n"}),
        chunk({"content": "\n\nHello! I am a tiny test model."}, "stop"),
    )
    assert content(chunks) == HELLO_THINKING


def test_a_chunk_without_a_delta_shows_nothing():
    no_delta = {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": None}]}
    chunks = streamed(chunk({"content": "Hi"}), no_delta, chunk({"content": "!"}, "stop"))
    assert [c.delta.message.content for c in chunks] == ["Hi", "!", ""]


def _call(index, city):
    function = {"name": "get_weather", "arguments": f'{{"city": "{city}"}}'}
    return {"tool_calls": [{"index": index, "id": f"c{index}", "type": "function", "function": function}]}


def test_reasoning_that_resumes_after_a_tool_call_is_a_block_of_its_own():
    """Interleaved thinking: the tool call closes the block, so the next reasoning opens a new one."""
    chunks = streamed(
        chunk({"reasoning_content": "\nParis first.\n"}),
        chunk(_call(0, "Paris")),
        chunk({"reasoning_content": "\nThen Rome.\n"}),
        chunk(_call(1, "Rome")),
        chunk({}, "tool_calls"),
        tools=[WEATHER_TOOL],
    )
    assert content(chunks) == "<think>\nParis first.\n</think><think>\nThen Rome.\n</think>"
    assert tool_calls(chunks) == [("get_weather", '{"city": "Paris"}'), ("get_weather", '{"city": "Rome"}')]


def test_with_tools_a_tag_start_held_back_at_the_end_is_shown():
    chunks = streamed(chunk({"content": "Type "}), chunk({"content": "<tool"}, "stop"), tools=[WEATHER_TOOL])
    assert content(chunks) == "Type <tool"
    assert tool_calls(chunks) == []


def test_a_generate_stream_without_usage_is_estimated():
    frames = [
        {"object": "text_completion", "choices": [{"index": 0, "text": t, "finish_reason": f}]}
        for t, f in (("Once upon", None), (" a time", "stop"))
    ]
    chunks = streamed(*frames, uid="test-llm-base", url=COMPLETIONS_URL)
    assert content(chunks) == "Once upon a time"
    usage = chunks[-1].delta.usage
    assert usage.completion_tokens > 0 and usage.prompt_tokens > 0
    assert chunks[-1].delta.finish_reason == "stop"
