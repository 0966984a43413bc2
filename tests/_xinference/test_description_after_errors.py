"""Which error answers make the plugin forget a model's cached description: those that say the model is gone
(a 404, or Xinference 1.x's 400 "Model not found"), so the next call reads the description again. A 400
that blames the request (recorded from Xinference 1.17.1) leaves it: the model is still there."""

from __future__ import annotations

import pytest
import responses
from dify_plugin.errors.model import InvokeBadRequestError

from models._xinference.model_info import DESCRIPTIONS
from tests._xinference.client_support import CHAT, client
from tests.helpers import SERVER, fixture_json, release_http_fixture


@pytest.fixture(autouse=True)
def _empty_cache():
    DESCRIPTIONS.clear()
    yield
    DESCRIPTIONS.clear()


@pytest.mark.parametrize(
    ("recording", "forgotten"),
    [
        ("err_chat_unknown_model.txt", True),  # 400 "Model not found in the model list"
        ("err_chat_last_message_assistant.txt", False),  # 400 "Invalid input. Please specify the prompt."
    ],
)
def test_a_400_drops_the_description_only_when_the_model_is_gone(recording, forgotten):
    status, headers, body = release_http_fixture("1.17.1", recording)
    c = client()
    with responses.RequestsMock() as mock:
        mock.get(SERVER + "/v1/models/test-llm", json=fixture_json("llm_04_get_model.json"))
        mock.post(CHAT, status=status, body=body, content_type=headers["content-type"])
        c.describe()
        with pytest.raises(InvokeBadRequestError):
            c.post_json("/v1/chat/completions", {}, what="chat")
    assert (c.cached_description() is None) is forgotten
