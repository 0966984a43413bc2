"""The one HTTP client, transport: auth header, bounded retries (what is retried and what not),
refused connections, redirects, the JSON request body, session pooling and the model list.
Status -> typed error: test_client_errors.py."""

import json
import threading

import pytest
import requests
import responses
from dify_plugin.errors.model import (
    InvokeAuthorizationError,
    InvokeBadRequestError,
    InvokeConnectionError,
    InvokeServerUnavailableError,
)

from models._xinference.credentials import parse_credentials
from models._xinference.sessions import pooled_session
from tests._xinference.client_support import CHAT, client, replay
from tests.helpers import API_KEY, SERVER, fixture_json, raw_credentials


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


@pytest.mark.parametrize("status", [400, 404, 500, 503])
def test_a_status_that_is_not_retried_is_sent_once(status):
    """Guarded: a client that looped on a refusal would send it forever; the fourth send fails the test."""
    sent = []

    def answer(request):
        sent.append(request)
        assert len(sent) <= 3, "a refused request sent again and again"
        return status, {}, json.dumps({"detail": "refused"})

    with responses.RequestsMock() as mock:
        mock.add_callback("POST", CHAT, callback=answer, content_type="application/json")
        with pytest.raises(Exception, match="refused") as info:
            client(max_retries="5").post_json("/v1/chat/completions", {})
    assert type(info.value).__name__.startswith("Invoke") and len(sent) == 1


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


def test_redirect_of_an_inference_request_is_refused_the_same_way():
    """A POST has no status to re-check a relaunch on (relaunch.py): the redirect error, nothing more."""
    with responses.RequestsMock() as mock:
        mock.post(CHAT, status=307, headers={"Location": "http://evil.test/v1/chat/completions"})
        with pytest.raises(InvokeBadRequestError, match=r"redirect \(HTTP 307\) to http://evil.test/"):
            client(api_key=API_KEY).post_json("/v1/chat/completions", {})
        assert len(mock.calls) == 1


def test_nan_is_refused_before_sending():
    with responses.RequestsMock(), pytest.raises(InvokeBadRequestError, match="Out of range float"):
        client().post_json("/v1/embeddings", {"x": float("nan")})


def test_body_is_utf8_json():
    with responses.RequestsMock() as mock:
        mock.post(CHAT, json={})
        client().post_json("/v1/chat/completions", {"messages": [{"content": "你好"}]})
        body = mock.calls[0].request.body
    assert json.loads(body) == {"messages": [{"content": "你好"}]} and "你好".encode() in body


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


def test_list_models_reads_the_old_uid_map_and_refuses_another_shape():
    old = {"qwen3": {"model_type": "LLM", "model_name": "qwen3"}, "skip": "not a description"}
    with responses.RequestsMock() as mock:
        mock.get(SERVER + "/v1/models", json=old)
        mock.get(SERVER + "/v1/models", json=["qwen3"])
        models = client().list_models()
        with pytest.raises(
            InvokeServerUnavailableError, match="list of running models: expected a JSON object"
        ):
            client().list_models()
    assert [(m.uid, m.model_type, m.model_name) for m in models] == [("qwen3", "llm", "qwen3")]
