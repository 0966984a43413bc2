"""Dify's tool_choice in every shape it can arrive in, and what the server receives.

- Shapes: the daemon's `{"mode", "name"}`, OpenAI's, a bare tool name, Anthropic's `{"type": "tool",
  "name"}`, or an SDK entity (a newer dify_plugin passes a pydantic model). A choice that names no tool
  sent, or is malformed, is not forwarded and never breaks the request.
- Refusals: tool_choice is dropped only when the server refuses *it* (one warning in the log says so,
  with the server's words cut at 200 characters): an error that merely mentions tool_choice (a busy
  server, or vLLM's complaint about tools in a request that sent no tool_choice) or a refusal of
  something else (a too-long prompt) reaches Dify as it is, and the request is not sent a second time.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
import responses
from dify_plugin.entities.model.message import UserPromptMessage
from dify_plugin.errors.model import InvokeBadRequestError, InvokeServerUnavailableError
from pydantic import BaseModel

from models._xinference.model_info import DESCRIPTIONS
from models._xinference.schemas import SCHEMAS
from tests.helpers import fixture_json
from tests.llm.support import CHAT_URL, WEATHER_TOOL, add_description, creds, model, sent_bodies

NAMED = {"type": "function", "function": {"name": "get_weather"}}
ANSWER = {"json": fixture_json("llm_09_chat_tools_nonstream.json")}


class DaemonToolChoice(BaseModel):
    """What a dify_plugin that passes the daemon's tool_choice on would hand the plugin."""

    mode: str
    name: str | None = None


def _invoke(tool_choice: Any, params: dict[str, Any] | None = None) -> None:
    model()._invoke(
        "test-llm",
        creds(),
        [UserPromptMessage(content="Weather in Paris?")],
        params or {},
        [WEATHER_TOOL],
        None,
        False,
        "u",
        tool_choice=tool_choice,
    )


def _sent(tool_choice: Any, params: dict[str, Any] | None = None) -> dict[str, Any]:
    DESCRIPTIONS.clear()
    SCHEMAS.clear()
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.post(CHAT_URL, **ANSWER)
        _invoke(tool_choice, params)
        (body,) = sent_bodies(mock)
    return body


@pytest.mark.parametrize(
    ("dify", "sent"),
    [
        ("get_weather", NAMED),  # a bare tool name
        ({"type": "tool", "name": "get_weather"}, NAMED),  # Anthropic's shape
        ({"type": "auto"}, "auto"),
        (DaemonToolChoice(mode="tool", name="get_weather"), NAMED),
        (DaemonToolChoice(mode="required"), "required"),
    ],
)
def test_every_shape_of_tool_choice_reaches_the_server_in_openai_form(dify, sent):
    assert _sent(dify)["tool_choice"] == sent


def test_a_tool_choice_model_parameter_counts_when_the_sdk_passes_no_keyword():
    assert _sent(None, {"tool_choice": "required"})["tool_choice"] == "required"
    assert _sent({"mode": "none"}, {"tool_choice": "required"})["tool_choice"] == "none"  # the keyword wins


@pytest.mark.parametrize(
    "dify",
    [
        {"type": "function"},  # OpenAI's shape without its function
        {"type": "function", "function": "get_weather"},
        {"name": "get_weather"},  # no mode
        {"mode": "function", "name": "get_weather"},  # a name, but no mode that forces it
        42,
    ],
)
def test_a_malformed_tool_choice_is_not_forwarded_and_the_request_still_goes_out(dify):
    body = _sent(dify)
    assert "tool_choice" not in body and body["tools"][0]["function"]["name"] == "get_weather"


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
        mock.post(CHAT_URL, **ANSWER)  # what a retry would get
        with pytest.raises(error, match=detail):
            _invoke({"mode": "required"})
        bodies = sent_bodies(mock)
    assert bodies and all(body["tool_choice"] == "required" for body in bodies)


def test_a_request_without_tool_choice_is_not_retried_when_the_server_names_tool_choice():
    vllm = '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set'
    DESCRIPTIONS.clear()
    SCHEMAS.clear()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        add_description(mock)
        mock.post(CHAT_URL, status=400, json={"detail": vllm})
        mock.post(CHAT_URL, **ANSWER)  # what a retry would get
        with pytest.raises(InvokeBadRequestError, match="enable-auto-tool-choice"):
            _invoke(None)
        assert len(sent_bodies(mock)) == 1


def test_the_retry_is_logged_once_with_the_servers_words_cut_at_200_characters(caplog):
    detail = "Forced tool_choice is not supported by the transformers engine. " + "x" * 300
    DESCRIPTIONS.clear()
    SCHEMAS.clear()
    with responses.RequestsMock() as mock, caplog.at_level(logging.WARNING, logger="models.llm.tool_calls"):
        add_description(mock)
        mock.post(CHAT_URL, status=400, json={"detail": detail})
        mock.post(CHAT_URL, **ANSWER)
        _invoke({"mode": "required"})
    assert caplog.messages == [
        f"chat with model 'test-llm': the server refused tool_choice 'required' ({detail[:200]}); "
        "sending the request again without it"
    ]
