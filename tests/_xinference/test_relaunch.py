"""A UID relaunched as a different model: the plugin re-reads the description when an inference request
fails, says what changed, and the next call uses the new description (models/_xinference/relaunch.py).
Recorded 4.1.0 answers: a chat model's description, a generate-only one under the same UID, and the 500
Xinference answers a chat request to a generate-only model with."""

import pytest
import responses
from dify_plugin.errors.model import InvokeAuthorizationError, InvokeServerUnavailableError

from models._xinference.model_info import DESCRIPTIONS
from models._xinference.schemas import SCHEMAS
from tests._xinference.client_support import CHAT, client
from tests.helpers import SERVER, fixture_bytes, fixture_json

DESCRIBE = SERVER + "/v1/models/test-llm"
CHAT_ON_GENERATE = fixture_json("llm_14_chat_on_generate_model.json")


@pytest.fixture(autouse=True)
def _fresh_cache():
    DESCRIPTIONS.clear()
    yield
    DESCRIPTIONS.clear()


def _cached_chat_model(mock, c):
    mock.get(DESCRIBE, body=fixture_bytes("llm_04_get_model.json"), content_type="application/json")
    assert c.describe().has("chat")


def test_a_failure_from_a_relaunched_model_says_what_changed_and_refreshes_the_description():
    c = client()
    SCHEMAS.get("llm", "m", {"server_url": SERVER}, lambda: None)
    with responses.RequestsMock() as mock:
        _cached_chat_model(mock, c)
        mock.post(CHAT, status=500, json=CHAT_ON_GENERATE)
        mock.replace(
            responses.GET,
            DESCRIBE,
            body=fixture_bytes("llm_15_get_model_generate_only.json"),
            content_type="application/json",
        )
        with pytest.raises(InvokeServerUnavailableError) as info:
            c.post_json("/v1/chat/completions", {})
    message = str(info.value)
    assert "chat completion request failed" in message  # the server's words stay
    assert "not the one the plugin knew" in message
    assert "test-tiny-qwen2 (llm: chat, generate, tools; context 2048), now test-tiny-qwen2-base" in message
    assert not c.cached_description().has("chat")  # the next call and schema follow the new model
    assert not SCHEMAS._entries  # schemas built from the old description during this call are gone


def test_the_same_model_failing_gets_no_note_and_keeps_one_recheck():
    c = client()
    with responses.RequestsMock() as mock:
        _cached_chat_model(mock, c)
        mock.post(CHAT, status=500, json=CHAT_ON_GENERATE)
        with pytest.raises(InvokeServerUnavailableError) as info:
            c.post_json("/v1/chat/completions", {})
        assert [call.request.method for call in mock.calls] == ["GET", "POST", "GET"]
    assert "not the one the plugin knew" not in str(info.value)


def test_a_rejected_key_is_not_followed_by_another_request():
    """401 is no sign of a relaunch, and every request with a bad key counts towards Xinference's IP ban."""
    c = client()
    with responses.RequestsMock() as mock:
        _cached_chat_model(mock, c)
        mock.post(CHAT, status=401, json={"detail": "Invalid credential"})
        with pytest.raises(InvokeAuthorizationError):
            c.post_json("/v1/chat/completions", {})
        assert [call.request.method for call in mock.calls] == ["GET", "POST"]
