"""What Dify reads from an answer whatever shape it came in: a generate reply without choices is an error
naming the call, an answer the server never gave a finish reason ends with "stop", and usage of a
self-hosted model is priced at zero in USD."""

from __future__ import annotations

import pytest
import responses
from dify_plugin.errors.model import InvokeServerUnavailableError

from models._xinference.process_state import reset_process_state
from tests.llm.support import CHAT_URL, COMPLETIONS_URL, add_description, add_stream, chunk, invoke, sse


def test_a_generate_reply_without_choices_is_an_error_naming_the_call():
    reset_process_state()
    with responses.RequestsMock() as mock:
        add_description(mock, "test-llm-base")
        mock.post(COMPLETIONS_URL, json={"object": "text_completion", "choices": []})
        with pytest.raises(InvokeServerUnavailableError) as failed:
            invoke("test-llm-base", stream=False)
    assert str(failed.value) == (
        "Xinference sent an unusable answer to completion with model 'test-llm-base': "
        "the answer has no choices"
    )


@pytest.mark.parametrize("stream", [True, False])
def test_an_answer_without_a_finish_reason_ends_with_stop_and_zero_prices_in_usd(stream):
    reset_process_state()
    with responses.RequestsMock() as mock:
        add_description(mock)
        if stream:
            add_stream(mock, sse(chunk({"content": "Hi"}), chunk({"content": "!"})))
        else:
            mock.post(CHAT_URL, json={"choices": [{"index": 0, "message": {"content": "Hi!"}}]})
        last = invoke(stream=stream)[-1].delta
    assert last.finish_reason == "stop"
    usage = last.usage
    assert (usage.currency, usage.total_price, usage.prompt_price, usage.completion_price) == ("USD", 0, 0, 0)
