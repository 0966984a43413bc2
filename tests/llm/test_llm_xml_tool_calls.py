"""The Qwen3-Coder / Qwen3.5 tool-call form (`<function=NAME><parameter=P>VALUE</parameter>`) left in
content becomes real tool calls, each value typed by the tool's JSON schema; text around it stays text."""

from __future__ import annotations

import json

import pytest
import responses
from dify_plugin.entities.model.message import PromptMessageTool

from models.llm.tool_calls import extract_tool_calls, tool_schemas
from models.llm.tool_calls_xml import typed_value
from tests.helpers import fixture_json
from tests.llm.support import CHAT_URL, WEATHER_TOOL, add_description, add_stream, chunk, content, invoke, sse
from tests.llm.support import tool_calls as calls_of

SEARCH = PromptMessageTool(
    name="search_flights",
    description="Find flights",
    parameters={
        "type": "object",
        "properties": {
            "origin": {"type": "string"},
            "passengers": {"type": "integer"},
            "max_price": {"type": "number"},
            "direct_only": {"type": "boolean"},
            "filters": {"type": "object"},
            "dates": {"type": "array", "items": {"type": "string"}},
            "note": {"type": ["string", "null"]},
        },
    },
)
# As Qwen3-Coder writes it (its chat template puts every tag and value on its own line).
CODER_CALL = (
    "<tool_call>\n<function=search_flights>\n"
    "<parameter=origin>\n007\n</parameter>\n"
    "<parameter=passengers>\n2\n</parameter>\n"
    "<parameter=max_price>\n199.5\n</parameter>\n"
    "<parameter=direct_only>\nTrue\n</parameter>\n"
    '<parameter=filters>\n{"airline": "LH", "seats": 2}\n</parameter>\n'
    '<parameter=dates>\n["2026-12-24", "2026-12-31"]\n</parameter>\n'
    "<parameter=note>\nwindow seat,\nplease\n</parameter>\n"
    "</function>\n</tool_call>"
)
TYPED = {
    "origin": "007",  # a string stays a string even when it looks like a number
    "passengers": 2,
    "max_price": 199.5,
    "direct_only": True,
    "filters": {"airline": "LH", "seats": 2},
    "dates": ["2026-12-24", "2026-12-31"],
    "note": "window seat,\nplease",  # inner newlines are the value's own
}
WEATHER = (
    "<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n</function>\n</tool_call>"
)


def arguments(calls):
    return [(name, json.loads(args)) for name, args in calls]


def run(body, *, stream=True, tools=(SEARCH, WEATHER_TOOL)):
    with responses.RequestsMock() as mock:
        add_description(mock, "test-llm-tools")
        if stream:
            add_stream(mock, body)
        else:
            mock.post(CHAT_URL, json=body)
        return invoke("test-llm-tools", tools=list(tools), stream=stream)


def blocking(text):
    data = fixture_json("tools_03_chat_toolcall.json")
    message = data["choices"][0]["message"]
    message["content"], message["tool_calls"] = text, []  # what a server without the XML parser returns
    data["choices"][0]["finish_reason"] = "stop"
    return data


def test_every_value_is_typed_by_the_schema_blocking():
    chunks = run(blocking(CODER_CALL), stream=False)
    assert arguments(calls_of(chunks)) == [("search_flights", TYPED)]
    assert content(chunks) == ""
    assert chunks[-1].delta.finish_reason == "tool_calls"


@pytest.mark.parametrize("size", [1, 3, 7, 16])
def test_streamed_markup_in_any_pieces_gives_the_same_call(size):
    text = "Let me look.\n" + CODER_CALL + "\n" + WEATHER
    pieces = [text[i : i + size] for i in range(0, len(text), size)]
    body = sse(
        chunk({"role": "assistant", "content": "", "tool_calls": []}),
        *[chunk({"content": p, "tool_calls": []}) for p in pieces],
        chunk({"content": ""}, "stop", usage={"prompt_tokens": 90, "completion_tokens": 80}),
    )
    chunks = run(body)
    assert arguments(calls_of(chunks)) == [("search_flights", TYPED), ("get_weather", {"city": "Paris"})]
    assert content(chunks) == "Let me look.\n\n"  # the text around the markup stays text
    assert chunks[-1].delta.finish_reason == "tool_calls"


def test_json_form_and_xml_form_in_one_answer():
    json_call = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Rome"}}\n</tool_call>'
    shown, calls = extract_tool_calls(json_call + WEATHER, tool_schemas([WEATHER_TOOL]))
    assert shown == ""
    assert [json.loads(c.function.arguments) for c in calls] == [{"city": "Rome"}, {"city": "Paris"}]


@pytest.mark.parametrize(
    ("value", "schema", "expected"),
    [
        ("42", {"type": "integer"}, 42),
        ("3.0", {"type": "integer"}, 3),
        ("x42", {"type": "integer"}, "x42"),  # does not fit: kept as text for the tool to report
        ("-1e3", {"type": "number"}, -1000.0),
        ("false", {"type": "boolean"}, False),
        ("yes", {"type": "boolean"}, "yes"),
        ("[1, 2]", {"type": "object"}, "[1, 2]"),
        ("null", {"type": ["integer", "null"]}, None),
        ("None", {"type": ["null", "integer"]}, None),  # as a model used to Python writes it
        ("seven", {"type": ["null", "integer"]}, "seven"),
        ("7", {"type": ["string", "integer"]}, 7),
        ("seven", {"type": ["string", "integer"]}, "seven"),
        ("5", {"anyOf": [{"type": "integer"}, {"type": "string"}]}, 5),
        ("5", {"oneOf": [{"type": "string"}, {"type": "integer"}]}, 5),
        ("{}", {"anyOf": [{"type": "string"}, {"type": "array"}]}, "{}"),
        ("true", None, "true"),  # a parameter the schema does not name: a string
        ("  padded  ", {"type": "string"}, "  padded  "),
    ],
)
def test_typed_value(value, schema, expected):
    assert typed_value(value, schema) == expected


def test_a_call_for_a_tool_without_schema_keeps_strings():
    shown, calls = extract_tool_calls(
        "<tool_call><function=lookup><parameter=id>12</parameter></function></tool_call>", {}
    )
    assert (shown, calls[0].function.name, json.loads(calls[0].function.arguments)) == (
        "",
        "lookup",
        {"id": "12"},
    )


def test_a_call_without_parameters():
    _, calls = extract_tool_calls("<tool_call>\n<function=now>\n</function>\n</tool_call>", {"now": {}})
    assert (calls[0].function.name, calls[0].function.arguments) == ("now", "{}")


@pytest.mark.parametrize(
    "broken",
    [
        "<tool_call>\n<function=get_weather>\nnot parameters\n</function>\n</tool_call>",
        "<tool_call>\nfunction=get_weather\n</tool_call>",
        "<tool_call><function=>x</function></tool_call>",
    ],
)
def test_markup_that_is_no_call_is_shown_as_text(broken):
    shown, calls = extract_tool_calls(broken, tool_schemas([WEATHER_TOOL]))
    assert (shown, calls) == (broken, [])


def test_an_unclosed_final_call_still_counts():
    text = WEATHER.removesuffix("\n</function>\n</tool_call>")
    shown, calls = extract_tool_calls(text, tool_schemas([WEATHER_TOOL]))
    assert (shown, json.loads(calls[0].function.arguments)) == ("", {"city": "Paris"})


def test_without_tools_the_markup_is_only_text():
    chunks = run(blocking(WEATHER), stream=False, tools=())
    assert calls_of(chunks) == [] and content(chunks) == WEATHER
