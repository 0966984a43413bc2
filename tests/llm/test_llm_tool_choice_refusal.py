"""tool_choice is dropped only when the server refuses *it*: an error that merely mentions tool_choice
(a busy server) or a refusal of something else (a too-long prompt) reaches Dify as it is, and the
request is not sent a second time without the admin's tool_choice."""

from __future__ import annotations

import pytest
import responses
from dify_plugin.entities.model.message import UserPromptMessage
from dify_plugin.errors.model import InvokeBadRequestError, InvokeServerUnavailableError

from models._xinference.model_info import DESCRIPTIONS
from models._xinference.schemas import SCHEMAS
from tests.helpers import fixture_json
from tests.llm.support import CHAT_URL, WEATHER_TOOL, add_description, creds, model, sent_bodies


@pytest.mark.parametrize(
    ("status", "detail", "error"),
    [
        (503, "model still loading; tool_choice requests queued", InvokeServerUnavailableError),
        (400, "This model's maximum context length is 2048 tokens", InvokeBadRequestError),
    ],
)
def test_an_error_that_is_no_refusal_of_tool_choice_is_not_retried_without_it(status, detail, error):
    DESCRIPTIONS.clear()
    SCHEMAS.clear()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        add_description(mock)
        mock.post(CHAT_URL, status=status, json={"detail": detail})
        mock.post(CHAT_URL, json=fixture_json("llm_09_chat_tools_nonstream.json"))  # a retry would get this
        with pytest.raises(error, match=detail):
            model()._invoke(
                "test-llm",
                creds(),
                [UserPromptMessage(content="Weather in Paris?")],
                {},
                [WEATHER_TOOL],
                None,
                False,
                "u",
                tool_choice={"mode": "required"},
            )
        bodies = sent_bodies(mock)
    assert bodies and all(body["tool_choice"] == "required" for body in bodies)
