"""Tool calls in the loose shapes servers and models produce: null fields in deltas, a call that never gets
a name, no arguments at all, `parameters` for `arguments`, arguments already parsed into JSON, an empty
block before a real one, and text between a call and an unclosed last call."""

from __future__ import annotations

import pytest

from models.llm.tool_calls import extract_tool_calls
from tests.helpers import fixture_json
from tests.llm.support import chunk, sse, tool_calls
from tests.llm.test_llm_tool_calls import PARIS, ids, run

CALL = '{"name": "get_weather", "arguments": {"city": "Paris"}}'
ROME = '{"name": "get_weather", "arguments": {"city": "Rome"}}'


def test_null_fields_in_deltas_and_a_call_that_never_gets_a_name():
    body = sse(
        chunk(
            {
                "tool_calls": [
                    {"index": 0, "id": "call_a", "function": {"name": "get_weather", "arguments": None}}
                ]
            }
        ),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city": "Paris"}'}}]}),
        chunk({"tool_calls": [{"index": 1, "id": "call_b", "function": None}]}),
        chunk({}, "tool_calls"),
    )
    chunks = run(body)
    assert tool_calls(chunks) == [PARIS] and ids(chunks) == ["call_a"]
    assert [t.type for c in chunks for t in c.delta.message.tool_calls] == ["function"]


def test_a_call_without_arguments_gets_an_empty_object():
    body = sse(chunk({"tool_calls": [{"index": 0, "id": "call_a", "function": {"name": "get_weather"}}]}))
    assert tool_calls(run(body)) == [("get_weather", "{}")]
    for markup in ('{"name": "get_weather"}', '{"name": "get_weather", "arguments": null}'):
        _, calls = extract_tool_calls(f"<tool_call>{markup}</tool_call>")
        assert [(c.function.name, c.function.arguments) for c in calls] == [("get_weather", "{}")]


def test_parameters_are_read_where_a_model_writes_them_instead_of_arguments():
    _, calls = extract_tool_calls(
        '<tool_call>{"name": "get_weather", "parameters": {"city": "Paris"}}</tool_call>'
    )
    assert [(c.function.name, c.function.arguments) for c in calls] == [PARIS]


@pytest.mark.parametrize("stream", [False, True])
def test_arguments_a_server_sends_parsed_reach_dify_as_readable_json_text(stream):
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": {"city": "北京"}},
    }
    if stream:
        body = sse(chunk({"tool_calls": [{"index": 0, **call}]}), chunk({}, "tool_calls"))
    else:
        body = fixture_json("tools_03_chat_toolcall.json")
        body["choices"][0]["message"]["tool_calls"] = [call]
    assert tool_calls(run(body, "test-llm-tools", stream=stream)) == [("get_weather", '{"city": "北京"}')]


def test_an_empty_block_is_shown_and_the_call_after_it_still_counts():
    shown, calls = extract_tool_calls(f"<tool_call></tool_call>\n<tool_call>{CALL}</tool_call>")
    assert shown == "<tool_call></tool_call>\n"
    assert [(c.function.name, c.function.arguments) for c in calls] == [PARIS]


def test_text_between_a_call_and_an_unclosed_last_call_is_kept_as_it_was():
    shown, calls = extract_tool_calls(f"Checking.<tool_call>{CALL}</tool_call> And <tool_call>{ROME}")
    assert shown == "Checking. And "
    assert [c.function.arguments for c in calls] == ['{"city": "Paris"}', '{"city": "Rome"}']
