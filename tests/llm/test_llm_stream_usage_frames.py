"""Which usage a stream reports when the server sends more than one: the finishing frame's (Xinference
1.x-3.2 follow it with a frame whose counts are off), else the last one (OpenAI style: a usage-only frame
after a finishing frame without usage)."""

from __future__ import annotations

import responses

from tests.llm.support import add_description, add_stream, chunk, invoke, sse


def _usage(prompt, completion):
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _run(*events):
    with responses.RequestsMock() as mock:
        add_description(mock)
        add_stream(mock, sse(*events))
        return invoke()


def test_the_finishing_frames_usage_wins_over_a_late_frame():
    chunks = _run(
        chunk({"content": "Hi"}, usage=None),
        chunk({"content": ""}, "length", usage=_usage(19, 4)),
        chunk({}, "stop", usage=_usage(19, 17)),
    )
    assert chunks[-1].delta.usage.completion_tokens == 4
    assert chunks[-1].delta.finish_reason == "length"


def test_a_usage_only_frame_after_the_finish_is_taken():
    chunks = _run(
        chunk({"content": "Hi"}),
        chunk({}, "stop", usage=None),
        {"object": "chat.completion.chunk", "choices": [], "usage": _usage(7, 3)},
    )
    assert (chunks[-1].delta.usage.prompt_tokens, chunks[-1].delta.usage.completion_tokens) == (7, 3)


def test_usage_before_the_finish_is_replaced_by_a_later_one():
    chunks = _run(
        chunk({"content": "Hi"}, usage=_usage(7, 1)),
        chunk({"content": " there"}, usage=_usage(7, 2)),
        chunk({}, "stop", usage=_usage(7, 3)),
    )
    assert chunks[-1].delta.usage.completion_tokens == 3
