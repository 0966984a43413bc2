"""Tool calls: accumulated across deltas, whatever shape the server version uses, each call once;
Qwen-style markup left in streamed content becomes a proper call."""

from __future__ import annotations

import json

import pytest
import responses

from models.llm.tool_calls import ToolMarkupFilter, extract_tool_calls
from tests.helpers import fixture_bytes, fixture_json
from tests.llm.support import (
    CHAT_URL,
    WEATHER_TOOL,
    add_description,
    add_stream,
    chunk,
    content,
    invoke,
    sse,
    tool_calls,
)

PARIS = ("get_weather", '{"city": "Paris"}')


def run(body, uid="test-llm", tools=(WEATHER_TOOL,), stream=True):
    with responses.RequestsMock() as mock:
        add_description(mock, uid)
        if stream:
            add_stream(mock, body)
        else:
            mock.post(CHAT_URL, json=body)
        return invoke(uid, tools=list(tools) or None, stream=stream)


def call_delta(index, call_id=None, name=None, arguments=None):
    function = {k: v for k, v in (("name", name), ("arguments", arguments)) if v is not None}
    return {"index": index, **({"id": call_id} if call_id else {}), "type": "function", "function": function}


def ids(chunks):
    return [t.id for c in chunks for t in c.delta.message.tool_calls]


# ---- delta shapes ---------------------------------------------------------------------------------


def test_parallel_calls_in_one_stream_xinference_3x_shape():
    """v2.2-v3.2.1: every call complete in one delta, index always 0, a new id per call, an early
    finish_reason "tool_calls" with more chunks after it."""
    body = sse(
        chunk({"role": "assistant", "content": "", "tool_calls": []}),
        chunk({"tool_calls": [call_delta(0, "call_a", "get_weather", '{"city": "Paris"}')]}, "tool_calls"),
        chunk({"tool_calls": [call_delta(0, "call_b", "get_weather", '{"city": "Rome"}')]}, "tool_calls"),
        chunk(
            {"content": "", "tool_calls": []}, "stop", usage={"prompt_tokens": 30, "completion_tokens": 20}
        ),
    )
    chunks = run(body)
    assert tool_calls(chunks) == [PARIS, ("get_weather", '{"city": "Rome"}')]
    assert ids(chunks) == ["call_a", "call_b"]
    assert chunks[-1].delta.finish_reason == "tool_calls"
    assert chunks[-1].delta.usage.completion_tokens == 20


def test_calls_split_into_name_then_arguments_newer_shape():
    body = sse(
        chunk({"tool_calls": [call_delta(0, "call_a", "get_weather", "")]}),
        chunk({"tool_calls": [call_delta(0, "call_a", arguments='{"city": "Paris"}')]}),
        chunk({"tool_calls": [call_delta(1, "call_b", "get_time", "")]}),
        chunk({"tool_calls": [call_delta(1, "call_b", arguments='{"tz": "CET"}')]}),
        chunk({}, "tool_calls"),
    )
    chunks = run(body)
    assert tool_calls(chunks) == [PARIS, ("get_time", '{"tz": "CET"}')]
    assert ids(chunks) == ["call_a", "call_b"]


def test_argument_fragments_by_index_openai_shape():
    body = sse(
        chunk({"tool_calls": [call_delta(0, "call_a", "get_weather", "")]}),
        chunk({"tool_calls": [call_delta(0, arguments='{"ci')]}),
        chunk({"tool_calls": [call_delta(0, arguments='ty": "Paris"}')]}),
        chunk({"tool_calls": [call_delta(1, "call_b", "get_weather", '{"city":')]}),
        chunk({"tool_calls": [call_delta(1, arguments=' "Rome"}')]}),
        chunk({}, "tool_calls"),
    )
    assert tool_calls(run(body)) == [PARIS, ("get_weather", '{"city": "Rome"}')]


def test_a_call_without_id_gets_one_and_text_before_it_streams():
    body = sse(
        chunk({"content": "Let me check."}),
        chunk(
            {
                "tool_calls": [
                    {"index": 0, "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}
                ]
            }
        ),
        chunk({}, "stop"),
    )
    chunks = run(body)
    assert content(chunks) == "Let me check."
    assert tool_calls(chunks) == [PARIS]
    assert ids(chunks)[0].startswith("call_") and len(ids(chunks)[0]) == 37
    assert chunks[-1].delta.finish_reason == "tool_calls"


def test_each_complete_call_is_emitted_once_in_the_last_chunk():
    body = sse(
        chunk({"tool_calls": [call_delta(0, "call_a", "get_weather", '{"city": "Paris"}')]}, "tool_calls"),
        chunk({"content": "done"}),
        chunk({}, "stop"),
    )
    chunks = run(body)
    assert [len(c.delta.message.tool_calls) for c in chunks] == [0, 1]
    assert content(chunks) == "done"


def test_reasoning_is_closed_when_a_call_arrives():
    body = sse(
        chunk({"reasoning_content": "\nI should call it.\n"}),
        chunk({"tool_calls": [call_delta(0, "call_a", "get_weather", '{"city": "Paris"}')]}),
        chunk({}, "tool_calls"),
    )
    chunks = run(body)
    assert content(chunks) == "<think>\nI should call it.\n</think>"
    assert tool_calls(chunks) == [PARIS]


# ---- markup in streamed content ----------------------------------------------------------------------


def test_markup_in_streamed_content_becomes_a_tool_call():
    """Xinference 4.1.0, Transformers engine: the stream is not parsed (tools_04)."""
    chunks = run("tools_04_chat_toolcall_stream_raw_sse.txt", "test-llm-tools")
    assert tool_calls(chunks) == [PARIS]
    assert "<tool_call>" not in content(chunks) and "tool_c" not in content(chunks)
    assert chunks[-1].delta.finish_reason == "tool_calls"
    assert (chunks[-1].delta.usage.prompt_tokens, chunks[-1].delta.usage.completion_tokens) == (146, 41)


def test_markup_after_reasoning_content():
    chunks = run("reasoning_A14_tools_default_stream_raw_sse.txt", "test-reasoning")
    assert content(chunks) == "<think>\nI should call get_weather.\n</think>\n\n"
    assert tool_calls(chunks) == [PARIS]
    assert chunks[-1].delta.finish_reason == "tool_calls"


def test_markup_after_inline_think():
    chunks = run("reasoning_B14_tools_default_stream_raw_sse.txt", "test-reasoning")
    assert content(chunks) == "<think>\nI should call get_weather.\n</think>\n\n"
    assert tool_calls(chunks) == [PARIS]


def test_markup_is_left_alone_when_no_tools_were_sent():
    chunks = run("tools_04_chat_toolcall_stream_raw_sse.txt", "test-llm-tools", tools=())
    assert (
        content(chunks)
        == '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'
    )
    assert tool_calls(chunks) == []
    assert chunks[-1].delta.finish_reason == "stop"


def test_markup_filter_holds_back_only_a_possible_tag_start():
    markup = ToolMarkupFilter()
    assert markup.feed("Hello <") == "Hello "
    assert markup.feed("b>bold</b> and <tool") == "<b>bold</b> and "
    assert markup.feed("box> ") == "<toolbox> "
    assert markup.feed("x <tool_call") == "x "
    assert markup.feed('>{"name": "f", "arguments": {}}</tool_call> after') == " after"
    assert markup.flush() == ""
    assert [(c.function.name, c.function.arguments) for c in markup.calls] == [("f", "{}")]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 11])
def test_markup_gives_the_same_result_for_any_chunking(size):
    text = (
        'Sure.\n<tool_call>\n{"name": "a", "arguments": {"x": 1}}\n</tool_call>\n'
        '<tool_call>{"name": "b"}</tool_call>'
    )
    markup = ToolMarkupFilter()
    shown = "".join(markup.feed(text[i : i + size]) for i in range(0, len(text), size)) + markup.flush()
    assert shown == "Sure.\n\n"
    assert [(c.function.name, json.loads(c.function.arguments)) for c in markup.calls] == [
        ("a", {"x": 1}),
        ("b", {}),
    ]


def test_markup_that_is_not_a_call_is_shown_as_text():
    assert extract_tool_calls("<tool_call>not json</tool_call>!") == ("<tool_call>not json</tool_call>!", [])
    assert extract_tool_calls('<tool_call>{"arguments": {}}</tool_call>')[1] == []


def test_an_unclosed_call_still_counts_when_it_parses():
    shown, calls = extract_tool_calls('<tool_call>\n{"name": "f", "arguments": {"q": "é"}}\n')
    assert shown == ""
    assert (calls[0].function.name, calls[0].function.arguments) == ("f", '{"q": "é"}')
    assert extract_tool_calls("<tool_call>{half")[0] == "<tool_call>{half"


# ---- blocking ----------------------------------------------------------------------------------------


def test_blocking_tool_call_keeps_the_servers_id():
    (result,) = run(fixture_json("tools_03_chat_toolcall.json"), "test-llm-tools", stream=False)
    assert result.delta.message.content == ""
    assert tool_calls([result]) == [PARIS]
    assert ids([result]) == ["call_abf6db98-3e51-4df9-b91c-f0738582a56c"]
    assert result.delta.finish_reason == "tool_calls"


def test_blocking_markup_left_in_content_becomes_a_call():
    answer = fixture_json("tools_01_chat_plain.json")
    answer["choices"][0]["message"] = {
        "role": "assistant",
        "content": 'ok <tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>',
        "tool_calls": [],
    }
    (result,) = run(answer, "test-llm-tools", stream=False)
    assert result.delta.message.content == "ok "
    assert tool_calls([result]) == [PARIS]
    assert result.delta.finish_reason == "tool_calls"


def test_recorded_stream_has_markup_split_mid_tag():
    # the premise of the tests above: the tags really arrive in pieces
    assert b'"content": "<t"' in fixture_bytes("tools_04_chat_toolcall_stream_raw_sse.txt")
