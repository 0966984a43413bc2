"""Reasoning in chats on the real reasoning model: earlier think blocks never reach the server again, inline
think blocks (the server's parser switched off through the extra request body) read like the split ones,
and the sampling controls for local models are accepted by the engine."""

from __future__ import annotations

import json

import pytest

from tests.real.counting_proxy import CountingProxy
from tests.real.support import HELLO, OPEN_URL, THINK, UIDS, credentials, llm_text, ok
from tools.console import payloads

pytestmark = pytest.mark.real

QUESTION = {"role": "user", "content": "Hello, who are you?"}
PARAMS = {"temperature": 0, "max_tokens": 96}


def chat(plugin, messages, url=None, stream=True, **parameters):
    creds = credentials(UIDS["reasoning"], url=url)
    data = payloads.invoke_llm("my-llm", creds, messages, parameters=PARAMS | parameters, stream=stream)
    return llm_text(ok(plugin, data))


def test_the_second_turn_reaches_the_server_without_the_first_turns_reasoning(plugin):
    first = chat(plugin, [QUESTION])
    assert first == THINK + HELLO  # what Dify stores as the assistant's answer
    history = [QUESTION, {"role": "assistant", "content": first, "tool_calls": []}, QUESTION]
    with CountingProxy(OPEN_URL) as proxy:
        second = chat(plugin, history, url=proxy.url)
        (sent,) = [json.loads(r.body) for r in proxy.requests() if r.path == "/v1/chat/completions"]
    assert [m["content"] for m in sent["messages"]] == [QUESTION["content"], HELLO, QUESTION["content"]]
    assert "<think>" not in json.dumps(sent) and "greets" not in json.dumps(sent)
    assert second == THINK + HELLO  # this turn's own reasoning is still shown


@pytest.mark.parametrize("stream", [False, True], ids=["blocking", "stream"])
def test_inline_think_block_reads_like_the_split_one(plugin, stream):
    # chat_template_kwargs.reasoning_content=false turns the server's parser off for this request:
    # the raw "<think>\n…\n</think>\n\nHello…" comes back in content
    extra = json.dumps({"chat_template_kwargs": {"reasoning_content": False}})
    text = chat(plugin, [QUESTION], stream=stream, enable_thinking=True, extra_body=extra)
    assert text == THINK + HELLO


def test_min_p_and_repetition_penalty_are_accepted_by_the_engine(plugin):
    text = chat(plugin, [QUESTION], enable_thinking=False, min_p=0.05, repetition_penalty=1.0)
    assert text == HELLO
