"""Issue 27 against the real Xinference (Transformers engine), through the plugin process; every request the
plugin sends passes a counting proxy, so the tests read the wire body the server got.

tiny-qwen2-tools (family qwen2.5-instruct, abilities generate/chat/tools) always answers HELLO and, given
tools, calls get_weather: it cannot write JSON, so structured output on it must end in the typed error.
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest

from tests.real.capabilities import has
from tests.real.counting_proxy import CountingProxy
from tests.real.support import HELLO, OPEN_URL, UIDS, WEATHER_TOOL, credentials, error_of, llm_text, ok
from tools.console import payloads

pytestmark = pytest.mark.real

SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
# as Dify's LLM node sends structured output
STRUCTURED = {"temperature": 0, "max_tokens": 32, "response_format": "json_schema"} | {
    "json_schema": json.dumps({"schema": SCHEMA, "name": "llm_response"})
}
PNG = base64.b64encode(
    (Path(__file__).parents[1] / "assets" / "images" / "red-square.png").read_bytes()
).decode()


@pytest.fixture(scope="module")
def proxy():
    with CountingProxy(OPEN_URL) as p:
        yield p


def _chat_bodies(proxy) -> list[dict]:
    return [json.loads(r.body) for r in proxy.requests() if r.path == "/v1/chat/completions"]


def _call(plugin, proxy, messages, *, parameters=None, tools=None, stream=False, must_fail=False, **creds):
    data = payloads.invoke_llm(
        "my-llm",
        credentials(UIDS["llm"], url=proxy.url, **creds),
        messages,
        parameters=parameters or {"temperature": 0, "max_tokens": 32},
        tools=tools,
        stream=stream,
    )
    proxy.reset()
    result = error_of(plugin, data) if must_fail else ok(plugin, data)
    return result, _chat_bodies(proxy)


def test_schema_declares_structured_output_and_the_media_overrides(plugin, proxy):
    def features(**creds):
        data = payloads.schema("llm", "my-llm", credentials(UIDS["llm"], url=proxy.url, **creds))
        return ok(plugin, data)[0]["model_schema"]

    plain = features()
    assert "structured-output" in plain["features"]
    assert not {"video", "audio", "document"} & set(plain["features"])
    names = [r["name"] for r in plain["parameter_rules"]]
    assert {"response_format", "json_schema"} <= set(names)
    assert "reasoning_effort" not in names  # qwen2.5-instruct's template reads none
    pinned = features(video="supported", audio="supported", document="supported", tls_verify=False)
    assert {"video", "audio", "document"} <= set(pinned["features"])


@pytest.mark.parametrize("stream", [False, True])
def test_structured_output_on_the_transformers_engine_is_instructed_and_fails_clearly(plugin, proxy, stream):
    started = time.perf_counter()
    error, bodies = _call(
        plugin,
        proxy,
        [{"role": "user", "content": "Where?"}],
        parameters=STRUCTURED,
        stream=stream,
        must_fail=True,
    )
    elapsed = time.perf_counter() - started
    assert error["error_type"] == "InvokeBadRequestError"
    assert "structured output failed: it holds no valid JSON" in error["message"]
    assert HELLO in error["message"]  # the model's real answer, quoted
    (body,) = bodies  # one request: no repair attempt
    assert body["stream"] is False
    # a server that names its engine (3.1+) says Transformers: nothing it would ignore is sent; before 3.1
    # the engine is unknown: response_format goes too (Transformers ignores it, enforcing engines keep it)
    assert ("response_format" in body) is not has("model_engine_in_description"), body
    assert body["messages"][0]["role"] == "system" and json.dumps(SCHEMA) in body["messages"][0]["content"]
    print(f"structured output, instructed, stream={stream}: {elapsed:.2f} s for the failing request")


def test_structured_output_enforced_override_sends_response_format_and_the_server_takes_it(plugin, proxy):
    chunks, (body,) = _call(
        plugin,
        proxy,
        [{"role": "user", "content": "Where?"}],
        parameters=STRUCTURED,
        structured_output="supported",
    )
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"schema": SCHEMA, "name": "llm_response"},
    }
    assert llm_text(chunks) == HELLO  # the Transformers engine ignores response_format (read in its source)


def _tool_turn(result_content):
    return [
        {"role": "user", "content": "Weather in Paris, with the radar picture?"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [payloads.tool_call("call_1", "get_weather", '{"city": "Paris"}')],
        },
        {"role": "tool", "content": result_content, "tool_call_id": "call_1", "name": "get_weather"},
    ]


@pytest.mark.parametrize("vision", ["auto", "supported"])
def test_a_tool_result_with_an_image_never_raises(plugin, proxy, vision):
    result = [payloads.text_part("18°C, sunny"), payloads.image_part(base64_data=PNG)]
    chunks, (body,) = _call(plugin, proxy, _tool_turn(result), tools=[WEATHER_TOOL], vision=vision)
    assert chunks, "the server answered"
    tool = body["messages"][2]
    assert tool["role"] == "tool" and tool["content"].startswith("18°C, sunny\n[image")
    if vision == "supported":
        assert body["messages"][3]["role"] == "user"
        assert body["messages"][3]["content"][1]["type"] == "image_url"
    else:
        assert "cannot read image files" in tool["content"] and len(body["messages"]) == 3


def test_several_system_messages_are_merged_at_the_front(plugin, proxy):
    messages = [
        {"role": "system", "content": "You are Dify's agent."},
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "Hello, who are you?"},
    ]
    chunks, (body,) = _call(plugin, proxy, messages)
    assert llm_text(chunks) == HELLO
    assert body["messages"][0] == {"role": "system", "content": "You are Dify's agent.\n\nAnswer briefly."}
    assert [m["role"] for m in body["messages"]] == ["system", "user"]


def test_tool_choice_sent_by_the_daemon_does_not_reach_the_plugin_with_sdk_0_10_2(plugin, proxy):
    data = payloads.invoke_llm(
        "my-llm",
        credentials(UIDS["llm"], url=proxy.url),
        [{"role": "user", "content": "What is the weather like in Paris today?"}],
        tools=[WEATHER_TOOL],
        stream=False,
    ) | {"tool_choice": {"mode": "required"}}  # the daemon's field (dify-plugin-daemon #807)
    proxy.reset()
    ok(plugin, data)
    (body,) = _chat_bodies(proxy)
    assert "tool_choice" not in body  # dify_plugin 0.10.2's request model drops the field


@pytest.mark.parametrize("choice", ["required", {"mode": "tool", "name": "get_weather"}, "none"])
def test_tool_choice_on_the_real_server_is_forwarded_or_dropped_with_a_log_line(proxy, choice, caplog):
    # in-process: the keyword a newer SDK passes to _invoke (0.10.2 cannot carry it through the daemon)
    from dify_plugin.entities.model.message import PromptMessageTool, UserPromptMessage

    from models.llm.llm import XinferenceLargeLanguageModel

    llm = XinferenceLargeLanguageModel(model_schemas=[])
    llm.started_at = time.perf_counter()
    proxy.reset()
    result = llm._invoke(
        "my-llm",
        credentials(UIDS["llm"], url=proxy.url),
        [UserPromptMessage(content="What is the weather like in Paris today?")],
        {"temperature": 0, "max_tokens": 64},
        [PromptMessageTool(**WEATHER_TOOL)],
        None,
        False,
        "u",
        tool_choice=choice,
    )
    bodies = _chat_bodies(proxy)
    statuses = [r.status for r in proxy.requests() if r.path == "/v1/chat/completions"]
    assert bodies[0]["tool_choice"] in (
        "required",
        "none",
        {"type": "function", "function": {"name": "get_weather"}},
    )
    if len(bodies) == 2:  # refused: sent again without it, and logged
        assert statuses[0] != 200 and "tool_choice" not in bodies[1]
        assert "refused tool_choice" in caplog.text
    print(f"tool_choice {choice!r}: statuses {statuses}")
    assert result.message.tool_calls or result.message.content
