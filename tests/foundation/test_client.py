"""The one HTTP client: auth header, status -> typed error (from real recordings), retries, pooling."""

import json
import threading

import pytest
import requests
import responses
from dify_plugin.errors.model import (
    InvokeAuthorizationError,
    InvokeBadRequestError,
    InvokeConnectionError,
    InvokeRateLimitError,
    InvokeServerUnavailableError,
)

from models._xinference.client import XinferenceClient
from models._xinference.credentials import parse_credentials
from models._xinference.sessions import pooled_session
from tests.helpers import API_KEY, SERVER, fixture_json, http_fixture, raw_credentials

CHAT = SERVER + "/v1/chat/completions"


def client(**overrides) -> XinferenceClient:
    return XinferenceClient(parse_credentials(raw_credentials(**overrides)))


def replay(mock, method, url, fixture):
    status, headers, body = http_fixture(fixture)
    mock.add(
        method,
        url,
        status=status,
        body=body,
        headers={k: v for k, v in headers.items() if k not in ("content-length", "content-type")},
        content_type=headers.get("content-type"),
    )


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


def test_bearer_header_only_when_a_key_is_set():
    with responses.RequestsMock() as mock:
        mock.get(SERVER + "/v1/models", json={"object": "list", "data": []})
        client().get_json("/v1/models")
        client(api_key=API_KEY).get_json("/v1/models")
        assert "Authorization" not in mock.calls[0].request.headers
        assert mock.calls[1].request.headers["Authorization"] == f"Bearer {API_KEY}"


def test_401_is_never_retried():
    with responses.RequestsMock() as mock:
        replay(mock, "POST", CHAT, "auth_10_chat_bad_key.txt")
        c = client(api_key=API_KEY, max_retries="10")
        with pytest.raises(InvokeAuthorizationError):
            c.post_json("/v1/chat/completions", {})
        assert len(mock.calls) == 1 and c.requests_sent == 1


def test_503_with_retry_after_is_retried_then_succeeds():
    with responses.RequestsMock() as mock:
        mock.post(CHAT, status=503, json={"detail": "Model is loading"}, headers={"Retry-After": "30"})
        mock.post(CHAT, json={"ok": True})
        c = client(max_retries="2", invoke_timeout="60")
        assert c.post_json("/v1/chat/completions", {}) == {"ok": True}
        assert c.requests_sent == 2


def test_503_without_retry_after_is_not_retried():
    with responses.RequestsMock() as mock:
        mock.post(CHAT, status=503, json={"detail": "down"})
        c = client(max_retries="5")
        with pytest.raises(InvokeServerUnavailableError):
            c.post_json("/v1/chat/completions", {})
        assert c.requests_sent == 1


def test_retries_are_bounded_by_max_retries():
    with responses.RequestsMock() as mock:
        mock.post(CHAT, status=503, json={"detail": "loading"}, headers={"Retry-After": "1"})
        c = client(max_retries="3", invoke_timeout="600")
        with pytest.raises(InvokeServerUnavailableError, match="loading"):
            c.post_json("/v1/chat/completions", {})
        assert c.requests_sent == 4


def test_unsent_connection_failure_is_retried_but_read_timeout_is_not():
    refused = requests.exceptions.ConnectionError(
        "HTTPConnectionPool: NewConnectionError: Connection refused"
    )
    with responses.RequestsMock() as mock:
        mock.post(CHAT, body=refused)
        mock.post(CHAT, json={"ok": 1})
        c = client(max_retries="1")
        assert c.post_json("/v1/chat/completions", {}) == {"ok": 1}
        assert c.requests_sent == 2
    with responses.RequestsMock() as mock:
        mock.post(CHAT, body=requests.exceptions.ReadTimeout("read timed out"))
        c = client(max_retries="5")
        with pytest.raises(InvokeConnectionError, match="stopped answering"):
            c.post_json("/v1/chat/completions", {})
        assert c.requests_sent == 1


def test_refused_connection_is_a_connection_error_naming_the_server():
    c = client(server_url="http://127.0.0.1:9", max_retries="0", invoke_timeout="2")
    with pytest.raises(InvokeConnectionError) as info:
        c.get_json("/v1/models")
    assert "127.0.0.1:9" in str(info.value) and "Server URL" in str(info.value)


def test_redirect_is_not_followed():
    with responses.RequestsMock() as mock:
        mock.get(SERVER + "/v1/models", status=302, headers={"Location": "http://evil.test/v1/models"})
        c = client(api_key=API_KEY)
        with pytest.raises(InvokeBadRequestError, match="redirect") as info:
            c.get_json("/v1/models")
        assert len(mock.calls) == 1
    assert "evil.test" in str(info.value) and API_KEY not in str(info.value)


def test_non_json_success_body_is_a_server_error():
    with responses.RequestsMock() as mock:
        mock.get(SERVER + "/v1/models", body="<html>hi</html>", content_type="text/html")
        with pytest.raises(InvokeServerUnavailableError, match="HTML page"):
            client().get_json("/v1/models")


def test_nan_is_refused_before_sending():
    with responses.RequestsMock(), pytest.raises(InvokeBadRequestError, match="Out of range float"):
        client().post_json("/v1/embeddings", {"x": float("nan")})


def test_body_is_utf8_json():
    with responses.RequestsMock() as mock:
        mock.post(CHAT, json={})
        client().post_json("/v1/chat/completions", {"messages": [{"content": "你好"}]})
        body = mock.calls[0].request.body
    assert json.loads(body) == {"messages": [{"content": "你好"}]} and "你好".encode() in body


def test_stream_with_wrong_content_type_is_refused():
    with responses.RequestsMock() as mock:
        mock.post(CHAT, json={"choices": []})
        with pytest.raises(InvokeServerUnavailableError, match="expected an event stream"):
            client().stream_events("/v1/chat/completions", {}, what="chat")


def test_sessions_are_pooled_per_server_key_and_tls():
    a = parse_credentials(raw_credentials())
    assert pooled_session(a) is pooled_session(parse_credentials(raw_credentials(model_uid="other")))
    assert pooled_session(a) is not pooled_session(parse_credentials(raw_credentials(api_key=API_KEY)))
    assert pooled_session(a) is not pooled_session(parse_credentials(raw_credentials(tls_verify=False)))
    assert pooled_session(parse_credentials(raw_credentials(tls_verify=False))).verify is False


def test_pool_is_safe_under_concurrent_first_use():
    creds = parse_credentials(raw_credentials())
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(pooled_session(creds))) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(s) for s in seen}) == 1


def test_list_models_reads_the_recorded_list():
    with responses.RequestsMock() as mock:
        mock.get(SERVER + "/v1/models", json=fixture_json("models_list_all.json"))
        models = client().list_models()
    assert {m.uid for m in models} >= {"test-embed", "test-llm"}
    assert {m.model_type for m in models} >= {"llm", "embedding", "rerank"}
