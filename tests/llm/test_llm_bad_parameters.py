"""A model parameter Dify cannot send as it is (the extra request body, the response format) is refused
before any request, with the exact words an admin needs to fix it. The SDK checks types and options
against the schema before `_invoke`; the plugin's own checks hold for a caller that skips it, so those
cases call `_invoke` directly."""

from __future__ import annotations

import pytest
import responses
from dify_plugin.errors.model import InvokeBadRequestError

from models._xinference.process_state import reset_process_state
from models.llm.reasoning_request import reasoning_effort_kwargs
from tests.llm.support import add_description, creds, hello, invoke, model

EXTRA = "the Extra request body parameter"


@pytest.mark.parametrize(
    ("params", "direct", "message"),
    [
        ({"extra_body": {"top_k": 5}}, True, f"{EXTRA} must be a JSON object written as text"),
        ({"extra_body": "[1, 2]"}, False, f"{EXTRA} must be a JSON object {{…}}, not list"),
        (
            {"extra_body": '{"stream": false, "model": "other"}'},
            False,
            f"{EXTRA} cannot set model, stream: the plugin builds those from the conversation and the model "
            "settings; remove them from the extra body",
        ),
        (
            {"response_format": "yaml"},
            True,
            "response_format 'yaml' is not one of text, json_object, json_schema",
        ),
    ],
    ids=["not-text", "not-an-object", "reserved-keys", "unknown-format"],
)
def test_a_parameter_that_cannot_be_sent_is_refused_with_what_to_do(params, direct, message):
    reset_process_state()
    with responses.RequestsMock() as mock:
        add_description(mock)
        with pytest.raises(InvokeBadRequestError) as refused:
            if direct:  # through `invoke`, the SDK's schema check refuses it first
                model()._invoke("test-llm", creds(), hello(), params, stream=False)
            else:
                invoke(params=params)
        assert [c.request.method for c in mock.calls] == ["GET"]  # nothing was sent to the model
    assert str(refused.value) == message


def test_a_reasoning_effort_the_model_does_not_take_is_left_out_not_refused():
    """A level copied with a workflow from another model: the model's own default applies."""
    assert reasoning_effort_kwargs("qwen2.5-instruct", {"reasoning_effort": "high"}) == {}
    assert reasoning_effort_kwargs("gpt-oss", {"reasoning_effort": "max"}) == {}
    assert reasoning_effort_kwargs("GLM-5.2", {"reasoning_effort": "max"}) == {"reasoning_effort": "max"}
