"""The one HTTP client, errors: every status and error body -> its typed error (from real
recordings), readable 422 details, excerpted proxy pages, non-JSON or non-stream success bodies.
Auth header, retries, connections and pooling: test_client_transport.py."""

import pytest
import responses
from dify_plugin.errors.model import (
    InvokeAuthorizationError,
    InvokeBadRequestError,
    InvokeRateLimitError,
    InvokeServerUnavailableError,
)

from tests._xinference.client_support import CHAT, client, replay
from tests.helpers import API_KEY, SERVER, http_fixture


@pytest.mark.parametrize(
    ("fixture", "method", "path", "error", "words"),
    [
        (
            "auth_01_models_no_key.txt",
            "GET",
            "/v1/models",
            InvokeAuthorizationError,
            "Could not validate credentials",
        ),
        (
            "auth_10_chat_bad_key.txt",
            "POST",
            "/v1/chat/completions",
            InvokeAuthorizationError,
            "API Key field",
        ),
        (
            "auth_12_launch_with_api_key_forbidden.txt",
            "POST",
            "/v1/models",
            InvokeAuthorizationError,
            "API keys can",
        ),
        (
            "auth_11_valid_key_after_ip_ban.txt",
            "GET",
            "/v1/models",
            InvokeRateLimitError,
            "IP temporarily banned",
        ),
        (
            "err_02_chat_unknown_model.txt",
            "POST",
            "/v1/chat/completions",
            InvokeBadRequestError,
            "Model not found",
        ),
        ("err_01_get_unknown_model.txt", "GET", "/v1/models/x", InvokeBadRequestError, "Model not found"),
        (
            "err_06_chat_invalid_json.txt",
            "POST",
            "/v1/chat/completions",
            InvokeServerUnavailableError,
            "Internal Server Error: Expecting value",
        ),
        (
            "err_07_chat_missing_messages.txt",
            "POST",
            "/v1/chat/completions",
            InvokeServerUnavailableError,
            "field required",
        ),
        (
            "err_17_chat_max_tokens_too_large.txt",
            "POST",
            "/v1/chat/completions",
            InvokeServerUnavailableError,
            "Check the server logs",
        ),
        (
            "err_13_embed_with_llm_model.txt",
            "POST",
            "/v1/embeddings",
            InvokeServerUnavailableError,
            "not for creating embedding",
        ),
    ],
)
def test_recorded_error_responses_become_typed_errors(fixture, method, path, error, words):
    with responses.RequestsMock() as mock:
        replay(mock, method, SERVER + path, fixture)
        c = client(api_key=API_KEY)
        with pytest.raises(error) as info:
            if method == "GET":
                c.get_json(path)
            else:
                c.post_json(path, {"model": "test-llm"})
    message = str(info.value)
    assert words in message
    assert str(http_fixture(fixture)[0]) in message
    assert API_KEY not in message
    assert type(info.value).__name__ == error.__name__  # Dify shows the class name as error_type


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, InvokeBadRequestError),
        (401, InvokeAuthorizationError),
        (403, InvokeAuthorizationError),
        (404, InvokeBadRequestError),
        (422, InvokeBadRequestError),
        (429, InvokeRateLimitError),
        (500, InvokeServerUnavailableError),
        (502, InvokeServerUnavailableError),
        (503, InvokeServerUnavailableError),
        (504, InvokeServerUnavailableError),
    ],
)
def test_every_status_maps_to_its_type(status, error):
    with responses.RequestsMock() as mock:
        mock.post(CHAT, status=status, json={"detail": "nope"})
        with pytest.raises(error, match=f"HTTP {status}.*nope"):
            client().post_json("/v1/chat/completions", {})


def test_422_detail_list_is_readable():
    detail = [{"loc": ["body", "file"], "msg": "field required", "type": "value_error.missing"}]
    with responses.RequestsMock() as mock:
        mock.post(SERVER + "/v1/audio/transcriptions", status=422, json={"detail": detail})
        with pytest.raises(InvokeBadRequestError, match="file: field required"):
            client().post_json("/v1/audio/transcriptions", {})


def test_proxy_html_page_is_excerpted():
    page = (
        "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1>nginx</body></html>"
    )
    with responses.RequestsMock() as mock:
        mock.post(CHAT, status=502, body=page, content_type="text/html")
        with pytest.raises(InvokeServerUnavailableError) as info:
            client().post_json("/v1/chat/completions", {})
    assert (
        "HTML page" in str(info.value)
        and "502 Bad Gateway" in str(info.value)
        and "<h1>" not in str(info.value)
    )


def test_non_json_success_body_is_a_server_error():
    with responses.RequestsMock() as mock:
        mock.get(SERVER + "/v1/models", body="<html>hi</html>", content_type="text/html")
        with pytest.raises(InvokeServerUnavailableError, match="HTML page"):
            client().get_json("/v1/models")


def test_stream_with_wrong_content_type_is_refused():
    with responses.RequestsMock() as mock:
        mock.post(CHAT, json={"choices": []})
        with pytest.raises(InvokeServerUnavailableError, match="expected an event stream"):
            client().stream_events("/v1/chat/completions", {}, what="chat")
