"""LLM through the plugin against the real server: chat, tool calls, completion mode.

The chat model is tests/assets/models/tiny-qwen2-tools: greedy, it always answers HELLO, and with tools it
always calls get_weather({"city": "Paris"}).
"""

from __future__ import annotations

import json

import pytest

from tests.real.support import (
    HELLO,
    UIDS,
    WEATHER_TOOL,
    credentials,
    llm_text,
    llm_tool_calls,
    llm_usage,
    ok,
)
from tools.console import payloads

pytestmark = pytest.mark.real

GREEDY = {"temperature": 0, "max_tokens": 64}
USER = [{"role": "user", "content": "Hello, who are you?"}]
WEATHER = [{"role": "user", "content": "What is the weather like in Paris today?"}]


def _invoke(plugin, role, messages, **kw):
    data = payloads.invoke_llm("my-llm", credentials(UIDS[role]), messages, parameters=GREEDY, **kw)
    return ok(plugin, data)


def _finish(chunks):
    return [c["delta"].get("finish_reason") for c in chunks if c["delta"].get("finish_reason")]


def test_chat_blocking(plugin):
    chunks = _invoke(plugin, "llm", USER, stream=False)
    assert len(chunks) == 1  # blocking: the SDK sends the whole result as one chunk
    assert llm_text(chunks) == HELLO
    assert llm_tool_calls(chunks) == []
    usage = llm_usage(chunks)
    assert usage["completion_tokens"] == 15  # the server's count, not a local estimate
    assert usage["prompt_tokens"] > 5
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_chat_streaming(plugin):
    chunks = _invoke(plugin, "llm", USER, stream=True)
    assert len(chunks) > 2, "a stream should arrive in pieces"
    assert llm_text(chunks) == HELLO
    # the server ends with a "stop" frame and then a second, empty "stop" frame; one reaches Dify
    assert _finish(chunks) == ["stop"]
    usage = llm_usage(chunks)
    assert chunks[-1]["delta"].get("usage"), "usage comes with the last chunk"
    assert usage["completion_tokens"] in (15, 16)  # the stream counts <|im_end|> too
    assert usage["prompt_tokens"] > 5


def test_chat_max_tokens_finish_reason_length(plugin):
    data = payloads.invoke_llm(
        "my-llm", credentials(UIDS["llm"]), USER, parameters={"temperature": 0, "max_tokens": 4}, stream=True
    )
    chunks = ok(plugin, data)
    assert HELLO.startswith(llm_text(chunks)) and llm_text(chunks) != HELLO
    assert _finish(chunks) == ["length"]
    assert llm_usage(chunks)["completion_tokens"] == 4


def _assert_weather_call(calls):
    assert len(calls) == 1, calls
    call = calls[0]
    assert call["type"] == "function"
    assert call["id"]
    assert call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == {"city": "Paris"}


def test_tool_call_blocking(plugin):
    chunks = _invoke(plugin, "llm", WEATHER, tools=[WEATHER_TOOL], stream=False)
    _assert_weather_call(llm_tool_calls(chunks))
    assert "<tool_call>" not in llm_text(chunks)
    assert llm_usage(chunks)["prompt_tokens"] > 50  # the tool list was rendered into the prompt


def test_tool_call_streaming_is_parsed_by_the_plugin(plugin):
    # The Transformers engine of 4.1.0 streams the <tool_call> markup as plain content and ends with "stop";
    # the plugin must still hand Dify a proper tool call and no markup.
    chunks = _invoke(plugin, "llm", WEATHER, tools=[WEATHER_TOOL], stream=True)
    _assert_weather_call(llm_tool_calls(chunks))
    text = llm_text(chunks)
    assert "<tool_call>" not in text and "get_weather" not in text
    assert _finish(chunks) == ["tool_calls"]
    assert llm_usage(chunks)["completion_tokens"] > 20


def test_tool_result_round_trip(plugin):
    """call → tool result → the model answers (the reasoning model is trained for this turn)."""
    messages = [
        *WEATHER,
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [payloads.tool_call("call_1", "get_weather", '{"city": "Paris"}')],
        },
        {"role": "tool", "content": '{"temperature": 21, "condition": "sunny"}', "tool_call_id": "call_1"},
    ]
    params = {**GREEDY, "enable_thinking": False}
    data = payloads.invoke_llm(
        "my-llm",
        credentials(UIDS["reasoning"]),
        messages,
        tools=[WEATHER_TOOL],
        parameters=params,
        stream=False,
    )
    chunks = ok(plugin, data)
    assert llm_text(chunks) == HELLO
    assert llm_tool_calls(chunks) == []


@pytest.mark.parametrize("stream", [False, True], ids=["blocking", "stream"])
def test_completion_mode_on_generate_only_model(plugin, stream):
    # /v1/completions feeds the prompt as it is: the ChatML prompt the model was trained on gives HELLO
    prompt = "<|im_start|>user\nHello, who are you?<|im_end|>\n<|im_start|>assistant\n"
    chunks = _invoke(plugin, "llm_base", [{"role": "user", "content": prompt}], stream=stream)
    assert llm_text(chunks).strip() == HELLO
    usage = llm_usage(chunks)
    assert usage["completion_tokens"] >= 15
    assert usage["prompt_tokens"] > 5
    if stream:
        assert _finish(chunks) == ["stop"]


def test_num_tokens(plugin):
    data = payloads.llm_num_tokens("my-llm", credentials(UIDS["llm"]), USER)
    n = ok(plugin, data)[-1]["num_tokens"]
    assert 3 <= n <= 40
