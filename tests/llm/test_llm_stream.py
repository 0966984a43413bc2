"""Streamed answers from the recordings: text deltas, reasoning, finish reasons, completion
streams, failures. Streaming over a real loopback socket (delivery as it arrives, cut connections):
test_llm_stream_loopback.py."""

from __future__ import annotations

import json

import pytest
import responses
from dify_plugin.errors.model import (
    InvokeAuthorizationError,
    InvokeBadRequestError,
    InvokeConnectionError,
    InvokeServerUnavailableError,
)

from tests.helpers import fixture_bytes, http_fixture
from tests.llm.support import (
    CHAT_URL,
    COMPLETIONS_URL,
    add_description,
    add_stream,
    chunk,
    content,
    creds,
    hello,
    invoke,
    model,
    sse,
)

HELLO_THINKING = "<think>\nThe user greets me.\n</think>\n\nHello! I am a tiny test model."


def frames(name):
    """The JSON events of a recorded stream."""
    text = fixture_bytes(name).decode().replace("\r\n", "\n")
    return [json.loads(e[6:]) for e in text.split("\n\n") if e.startswith("data: {")]


def stream_chunks(fixture, uid="test-llm", **kwargs):
    with responses.RequestsMock() as mock:
        add_description(mock, uid)
        add_stream(mock, fixture, COMPLETIONS_URL if uid == "test-llm-base" else CHAT_URL)
        return invoke(uid, **kwargs)


# ---- text deltas ----------------------------------------------------------------------------------


def test_each_text_delta_is_its_own_chunk_and_the_last_chunk_settles_the_answer():
    chunks = stream_chunks("llm_06_chat_stream_raw_sse.txt")
    recorded = [f["choices"][0]["delta"].get("content") for f in frames("llm_06_chat_stream_raw_sse.txt")]
    assert [c.delta.message.content for c in chunks[:-1]] == [t for t in recorded if t]
    assert [c.delta.index for c in chunks] == list(range(len(chunks)))
    assert all(c.delta.finish_reason is None and c.delta.usage is None for c in chunks[:-1])
    last = chunks[-1]
    assert last.delta.message.content == ""
    # 4.1.0 sends finish_reason "length" and then one more frame saying "stop": the first is the truth
    assert last.delta.finish_reason == "length"
    assert (last.delta.usage.prompt_tokens, last.delta.usage.completion_tokens) == (19, 16)


# ---- reasoning ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fixture",
    [
        "reasoning_A10_chat_default_stream_raw_sse.txt",  # parser on, thinking on
        "reasoning_A13_chat_ctk_thinking_true_stream_raw_sse.txt",
        "reasoning_C13_chat_ctk_thinking_true_stream_raw_sse.txt",
    ],
)
def test_reasoning_content_is_wrapped_once_without_doubled_blank_lines(fixture):
    chunks = stream_chunks(fixture, "test-reasoning")
    assert content(chunks) == HELLO_THINKING
    assert content(chunks).count("<think>") == 1
    assert chunks[-1].delta.finish_reason == "stop"


def test_with_thinking_switched_on_the_answer_after_the_servers_reasoning_stays_the_answer():
    """The server split the reasoning out: the content that follows it is never taken for more reasoning."""
    chunks = stream_chunks(
        "reasoning_A13_chat_ctk_thinking_true_stream_raw_sse.txt",
        "test-reasoning",
        params={"enable_thinking": True},
    )
    assert content(chunks) == HELLO_THINKING


def test_reasoning_streams_as_it_arrives():
    chunks = stream_chunks("reasoning_A10_chat_default_stream_raw_sse.txt", "test-reasoning")
    shown = [c.delta.message.content for c in chunks]
    assert shown[:3] == ["<think>\nThe us", "er g", "reet"]


def test_inline_think_tags_pass_through_untouched():
    chunks = stream_chunks("reasoning_B10_chat_default_stream_raw_sse.txt", "test-reasoning")
    joined = "".join(
        f["choices"][0]["delta"].get("content") or ""
        for f in frames("reasoning_B10_chat_default_stream_raw_sse.txt")
    )
    assert content(chunks) == joined == HELLO_THINKING


def test_thinking_off_streams_plain_text():
    chunks = stream_chunks("reasoning_A12_chat_toplevel_thinking_false_stream_raw_sse.txt", "test-reasoning")
    assert content(chunks) == "Hello! I am a tiny test model."


def test_reasoning_cut_by_max_tokens_is_still_closed():
    chunks = stream_chunks("reasoning_A19_chat_max_tokens_4_stream_raw_sse.txt", "test-reasoning")
    assert content(chunks) == "<think>\nThe us\n</think>"
    assert chunks[-1].delta.finish_reason == "length"


# ---- completion mode ----------------------------------------------------------------------------


def test_completion_stream_ends_without_done_and_keeps_the_last_usage():
    chunks = stream_chunks("llm_13_completions_stream_raw_sse_generate_model.txt", "test-llm-base")
    texts = [
        f["choices"][0]["text"]
        for f in frames("llm_13_completions_stream_raw_sse_generate_model.txt")
        if f["choices"]
    ]
    assert content(chunks) == "".join(texts)
    assert chunks[-1].delta.finish_reason == "length"
    assert (chunks[-1].delta.usage.prompt_tokens, chunks[-1].delta.usage.completion_tokens) == (7, 16)


# ---- failures -------------------------------------------------------------------------------------


HEAD = sse(chunk({"role": "assistant", "content": "Hel"}), chunk({"content": "lo"}), done=False)


@pytest.mark.parametrize(
    ("body", "error", "message"),
    [
        (
            HEAD + b'data: {"error": "CUDA out of memory"}\r\n\r\n',
            InvokeServerUnavailableError,
            "CUDA out of memory",
        ),
        (HEAD + b'data: {"choices": [{"delta": {"content": "x"', InvokeConnectionError, "cut in the middle"),
        (HEAD, InvokeConnectionError, "ended before the server said it was done"),
        (HEAD + b"data: <html>oops</html>\r\n\r\n", InvokeServerUnavailableError, "not JSON"),
    ],
    ids=["error-event", "cut-mid-event", "eof-without-done", "not-json"],
)
def test_failures_mid_stream_are_typed_invoke_errors_raised_by_the_generator(body, error, message):
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.post(CHAT_URL, body=body, content_type="text/event-stream")
        stream = model().invoke("m", creds(), hello(), {}, None, None, True, "u")
        received = []
        with pytest.raises(error, match=message):
            for piece in stream:
                received.append(piece)
    assert type(received[0]).__name__ == "LLMResultChunk"  # the answer had begun when it failed
    assert content(received) == "Hello"


def test_error_event_of_a_completion_stream_is_typed():
    with responses.RequestsMock() as mock:
        add_description(mock, "test-llm-base")
        add_stream(mock, "llm_08_completions_stream_raw_sse.txt", COMPLETIONS_URL)
        with pytest.raises(InvokeServerUnavailableError, match="'str' object has no attribute 'get'"):
            invoke("test-llm-base")


@pytest.mark.parametrize(
    ("fixture", "error"),
    [
        ("auth_10_chat_bad_key.txt", InvokeAuthorizationError),
        ("err_16_chat_stream_unknown_model.txt", InvokeBadRequestError),
        ("err_17_chat_max_tokens_too_large.txt", InvokeServerUnavailableError),
    ],
)
@pytest.mark.parametrize("stream", [True, False])
def test_status_errors_come_before_any_chunk(fixture, error, stream):
    status, headers, body = http_fixture(fixture)
    headers.pop("content-length")  # the dump's body has a trailing newline the header does not count
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.post(CHAT_URL, status=status, headers=headers, body=body)
        with pytest.raises(error) as err:
            next(model().invoke("m", creds(), hello(), {}, None, None, stream, "u"))
    assert json.loads(body)["detail"] in str(err.value)  # the server's words reach the user
