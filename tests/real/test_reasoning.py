"""The hybrid-reasoning model (tests/assets/models/tiny-qwen3-reasoning) through the plugin.

Launched twice: `reasoning` with reasoning_content + enable_thinking on (thinks by default, like Qwen3), and
`reasoning_default` with reasoning_content only (the Transformers engine's default: no thinking).
The server splits the think block into `reasoning_content`; the plugin must give Dify exactly one
`<think>\\n…\\n</think>` block before the answer, both streamed and not.
"""

from __future__ import annotations

import json

import pytest

from tests.real.support import (
    HELLO,
    THINK,
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

USER = [{"role": "user", "content": "Hello, who are you?"}]
THINKING_ON = THINK + HELLO

# (role, enable_thinking parameter or None = unset, expected answer)
CASES = [
    ("reasoning", None, THINKING_ON),  # launch default: on
    ("reasoning", True, THINKING_ON),
    ("reasoning", False, HELLO),
    ("reasoning_default", None, HELLO),  # launch default: off
    ("reasoning_default", True, THINKING_ON),
    ("reasoning_default", False, HELLO),
]


def _params(thinking):
    params = {"temperature": 0, "max_tokens": 96}
    if thinking is not None:
        params["enable_thinking"] = thinking
    return params


@pytest.mark.parametrize("stream", [False, True], ids=["blocking", "stream"])
@pytest.mark.parametrize(("role", "thinking", "expected"), CASES, ids=[f"{r}-{t}" for r, t, _ in CASES])
def test_thinking_switch(plugin, role, thinking, expected, stream):
    data = payloads.invoke_llm(
        "my-llm", credentials(UIDS[role]), USER, parameters=_params(thinking), stream=stream
    )
    chunks = ok(plugin, data)
    text = llm_text(chunks)
    assert text == expected
    assert text.count("<think>") == (1 if expected == THINKING_ON else 0)
    usage = llm_usage(chunks)
    # 28 tokens with the think block, 15 without (+1 in streams: <|im_end|> is counted)
    assert usage["completion_tokens"] in ((28, 29) if expected == THINKING_ON else (15, 16))


@pytest.mark.parametrize("stream", [False, True], ids=["blocking", "stream"])
def test_think_block_and_tool_call_in_one_answer(plugin, stream):
    data = payloads.invoke_llm(
        "my-llm",
        credentials(UIDS["reasoning"]),
        [{"role": "user", "content": "What is the weather like in Paris today?"}],
        tools=[WEATHER_TOOL],
        parameters=_params(None),
        stream=stream,
    )
    chunks = ok(plugin, data)
    calls = llm_tool_calls(chunks)
    assert [c["function"]["name"] for c in calls] == ["get_weather"]
    assert json.loads(calls[0]["function"]["arguments"]) == {"city": "Paris"}
    text = llm_text(chunks)
    assert text.strip() == "<think>\nI should call get_weather.\n</think>"
    assert "<tool_call>" not in text


def test_streamed_reasoning_arrives_incrementally(plugin):
    """The think block is streamed as it is generated, not buffered until the end."""
    data = payloads.invoke_llm("my-llm", credentials(UIDS["reasoning"]), USER, parameters=_params(None))
    chunks = ok(plugin, data)
    pieces = [c["delta"]["message"].get("content") or "" for c in chunks]
    seen, before_close = "", 0
    for piece in pieces:
        seen += piece
        if "</think>" in seen:
            break
        before_close += bool(piece)
    assert before_close >= 3, pieces  # "<think>\n", then the reasoning in several deltas
