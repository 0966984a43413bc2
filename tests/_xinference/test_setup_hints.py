"""What a user sees for the setups that fail most: localhost inside Docker, a proxy that catches the
private Xinference address, and a Model UID that is not running (or is another kind of model)."""

from __future__ import annotations

import socket
from types import SimpleNamespace

import pytest
import requests
import responses
from dify_plugin.errors.model import CredentialsValidateFailedError, InvokeConnectionError

from models._xinference.client import XinferenceClient
from models._xinference.credentials import parse_credentials
from models._xinference.process_state import reset_process_state
from models.llm.llm import XinferenceLargeLanguageModel
from models.text_embedding.text_embedding import XinferenceTextEmbeddingModel
from tests.helpers import API_KEY, SERVER, fixture_json, http_fixture, raw_credentials

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
SECRET_PROXY = "http://squid-user:proxy-pass@proxy.corp.example:3128"


@pytest.fixture(autouse=True)
def no_proxy_settings(monkeypatch):
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    reset_process_state()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch_error(server_url: str, failure: Exception | None = None, **creds) -> str:
    client = XinferenceClient(parse_credentials(raw_credentials(server_url=server_url, **creds)))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        if failure is None:
            mock.add_passthru(server_url)  # a real connection to a closed port
        else:
            mock.get(f"{server_url}/v1/models/test-llm", body=failure)
        with pytest.raises(InvokeConnectionError) as info:
            client.describe(fresh=True)
    return str(info.value)


# ---- Docker: localhost is the plugin daemon's own container -------------------------------------------


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]", "0.0.0.0"])
def test_refused_localhost_explains_the_container_and_what_to_use(host):
    message = fetch_error(f"http://{host}:9997", requests.exceptions.ConnectionError("Connection refused"))
    assert "runs in its own Docker container" in message
    assert "http://host.docker.internal:9997" in message and "192.168.1.10:9997" in message
    assert "host.docker.internal:host-gateway" in message


def test_a_really_refused_connection_on_this_machine():
    message = fetch_error(f"http://localhost:{closed_port()}", api_key=API_KEY)
    assert "could not connect" in message and "own Docker container" in message
    assert API_KEY not in message


def test_a_connect_timeout_on_localhost_gets_the_same_advice():
    message = fetch_error("http://localhost:9997", requests.exceptions.ConnectTimeout("timed out"))
    assert "timed out while connecting" in message and "host.docker.internal" in message


def test_a_lan_address_gets_no_docker_advice():
    message = fetch_error("http://192.168.1.10:9997", requests.exceptions.ConnectionError("refused"))
    assert "could not connect" in message and "Docker" not in message and "NO_PROXY" not in message


# ---- a proxy in the daemon's environment --------------------------------------------------------------


@pytest.mark.parametrize("host", ["192.168.1.10", "10.0.0.5", "xinference", "gpu-box.lan", "localhost"])
def test_a_proxy_for_a_private_host_says_to_add_it_to_no_proxy(monkeypatch, host):
    monkeypatch.setenv("HTTP_PROXY", SECRET_PROXY)
    message = fetch_error(f"http://{host}:9997", requests.exceptions.ConnectionError("refused"))
    assert "HTTP_PROXY is set in the plugin daemon's environment" in message
    assert f"add {host} to NO_PROXY" in message
    assert (
        "proxy-pass" not in message and "proxy.corp.example" not in message
    )  # the proxy's address stays out


def test_no_proxy_hint_when_no_proxy_already_exempts_the_host(monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", SECRET_PROXY)
    monkeypatch.setenv("NO_PROXY", "localhost,192.168.1.10")
    message = fetch_error("http://192.168.1.10:9997", requests.exceptions.ConnectionError("refused"))
    assert "NO_PROXY" not in message


def test_no_proxy_hint_for_a_public_host_that_simply_refuses(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", SECRET_PROXY)
    message = fetch_error("https://xinference.example.com", requests.exceptions.ConnectionError("refused"))
    assert "NO_PROXY" not in message


def test_the_https_proxy_variable_is_named_for_an_https_server(monkeypatch):
    monkeypatch.setenv("https_proxy", SECRET_PROXY)
    message = fetch_error("https://10.1.2.3:9997", requests.exceptions.ConnectionError("refused"))
    assert "https_proxy is set" in message and "add 10.1.2.3 to NO_PROXY" in message


def test_a_failing_proxy_is_named_as_the_problem(monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", SECRET_PROXY)
    message = fetch_error(
        "http://192.168.1.10:9997", requests.exceptions.ProxyError("Unable to connect to proxy")
    )
    assert "the HTTP proxy set in the plugin daemon's environment failed" in message
    assert "add 192.168.1.10 to NO_PROXY" in message and "proxy-pass" not in message


@pytest.mark.parametrize("status", [502, 504])
def test_a_proxy_error_page_says_to_add_the_host_to_no_proxy(monkeypatch, status):
    monkeypatch.setenv("HTTP_PROXY", SECRET_PROXY)
    client = XinferenceClient(parse_credentials(raw_credentials(api_key=API_KEY)))
    page = f"<html><body><h1>{status} Gateway error</h1>squid could not reach the host</body></html>"
    with responses.RequestsMock() as mock:
        mock.get(f"{SERVER}/v1/models/test-llm", status=status, body=page, content_type="text/html")
        with pytest.raises(Exception) as info:
            client.describe(fresh=True)
    message = str(info.value)
    assert "an HTML page (a proxy or gateway answered" in message
    assert "add xinference.test to NO_PROXY" in message and API_KEY not in message


def test_xinferences_own_503_is_not_blamed_on_the_proxy(monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", SECRET_PROXY)
    monkeypatch.setenv("NO_PROXY", "xinference.test")  # exempt: the answer came from Xinference itself
    client = XinferenceClient(parse_credentials(raw_credentials()))
    with responses.RequestsMock() as mock:
        mock.get(f"{SERVER}/v1/models/test-llm", status=503, json={"detail": "Model is loading"})
        with pytest.raises(Exception) as info:
            client.describe(fresh=True)
    assert "NO_PROXY" not in str(info.value)


# ---- which UIDs are running ------------------------------------------------------------------------------


def many_models(count: int) -> dict:
    data = [{"id": f"embed-{i}", "model_type": "embedding", "model_name": f"bge-{i}"} for i in range(count)]
    return {"object": "list", "data": data}


def validate(dify_model, uid: str, listing: dict | None, describe=None) -> tuple[str, list[str]]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        if describe is None:
            status, headers, body = http_fixture("err_01_get_unknown_model.txt")
            body = body.replace(b"no-such-model", uid.encode())
            mock.get(
                f"{SERVER}/v1/models/{uid}", status=status, body=body, content_type=headers["content-type"]
            )
        else:
            mock.get(f"{SERVER}/v1/models/{uid}", json=describe)
        if listing is not None:
            mock.get(f"{SERVER}/v1/models", json=listing)
        else:
            mock.get(f"{SERVER}/v1/models", status=503, json={"detail": "busy"}, headers={"Retry-After": "1"})
        with pytest.raises(CredentialsValidateFailedError) as info:
            dify_model.validate_credentials(uid, raw_credentials(model_uid=uid, max_retries="3"))
        paths = [call.request.path_url for call in mock.calls]
    return str(info.value), paths


def test_an_unknown_uid_lists_the_running_models_of_that_type():
    message, paths = validate(
        XinferenceTextEmbeddingModel(model_schemas=[]), "bge-m3", fixture_json("models_list_all.json")
    )
    assert message == (
        f"No model with UID 'bge-m3' is running on {SERVER}: launch it in Xinference, or correct the "
        "Model UID (see `xinference list`). Running Text Embedding models on this server "
        "(UID and model name): 'test-embed' (test-minilm-embed)."
    )
    assert paths == ["/v1/models/bge-m3", "/v1/models"]  # one listing, only on this failure


def test_an_unknown_llm_uid_lists_llms_only():
    message, _ = validate(
        XinferenceLargeLanguageModel(model_schemas=[]), "qwen3", fixture_json("models_list_all.json")
    )
    assert message.endswith("Running LLMs on this server (UID and model name): 'test-llm' (test-tiny-qwen2).")


def test_a_wrong_type_uid_lists_the_models_of_the_type_asked_for():
    describe = fixture_json("embed_07_get_model.json")
    listing = fixture_json("models_list_all.json")
    message, paths = validate(XinferenceLargeLanguageModel(model_schemas=[]), "test-embed", listing, describe)
    assert (
        "is an embedding model" in message and "add it in Dify as a Text Embedding model instead" in message
    )
    assert message.endswith("Running LLMs on this server (UID and model name): 'test-llm' (test-tiny-qwen2).")
    assert paths == ["/v1/models/test-embed", "/v1/models"]


def test_at_most_ten_are_named():
    message, _ = validate(XinferenceTextEmbeddingModel(model_schemas=[]), "nope", many_models(14))
    assert "'embed-9' (bge-9) and 4 more." in message and "embed-10" not in message
    message, _ = validate(XinferenceTextEmbeddingModel(model_schemas=[]), "nope", many_models(10))
    assert message.endswith("'embed-8' (bge-8), 'embed-9' (bge-9).")  # exactly ten: all named, no "more"


def test_none_of_that_type_running():
    listing = {"object": "list", "data": [{"id": "test-llm", "model_type": "LLM", "model_name": "qwen3"}]}
    message, _ = validate(XinferenceTextEmbeddingModel(model_schemas=[]), "nope", listing)
    assert message.endswith("No Text Embedding model is running on this server.")


def test_an_unreadable_list_leaves_the_message_as_it_was_and_is_not_retried():
    message, paths = validate(XinferenceTextEmbeddingModel(model_schemas=[]), "nope", None)
    assert message.endswith("(see `xinference list`)")
    assert paths == ["/v1/models/nope", "/v1/models"]  # no retry although max_retries is 3


def test_no_listing_when_the_timeout_is_already_spent(monkeypatch):
    from models._xinference import base

    clock = iter([0.0, 4.8])  # validation started at 0 s; the description failed at 4.8 s of a 5 s timeout
    monkeypatch.setattr(base, "time", SimpleNamespace(monotonic=lambda: next(clock)))
    message, paths = validate(XinferenceTextEmbeddingModel(model_schemas=[]), "nope", many_models(2))
    assert message.endswith("(see `xinference list`)")
    assert paths == ["/v1/models/nope"]  # the list is not even asked for


def test_each_running_model_is_named_with_its_model_name_when_it_has_one():
    listing = {"object": "list", "data": many_models(2)["data"] + [{"id": "bare", "model_type": "embedding"}]}
    message, _ = validate(XinferenceTextEmbeddingModel(model_schemas=[]), "nope", listing)
    assert message.endswith(
        "Running Text Embedding models on this server (UID and model name): "
        "'embed-0' (bge-0), 'embed-1' (bge-1), 'bare'."
    )


def test_half_a_second_left_of_the_timeout_is_still_enough_to_list(monkeypatch):
    from models._xinference import base

    clock = iter([0.0, 4.5])  # 0.5 s of the 5 s timeout left: the least the listing is tried with
    monkeypatch.setattr(base, "time", SimpleNamespace(monotonic=lambda: next(clock)))
    message, paths = validate(XinferenceTextEmbeddingModel(model_schemas=[]), "nope", many_models(1))
    assert message.endswith("(UID and model name): 'embed-0' (bge-0).")
    assert paths == ["/v1/models/nope", "/v1/models"]
