"""The exact words an admin reads for the failures they can act on: a model of the wrong kind, the running
models listed after a failed validation, a UID relaunched as another model, a dead cluster worker, and
`localhost` inside the plugin daemon's container. Whole messages, so a changed word or a lost value shows."""

from __future__ import annotations

import socket
from types import SimpleNamespace

import pytest
import requests
import responses
from dify_plugin.errors.model import (
    CredentialsValidateFailedError,
    InvokeConnectionError,
    InvokeError,
    InvokeServerUnavailableError,
)

from models._xinference import base
from models._xinference.base import wrong_type_message
from models._xinference.client import XinferenceClient
from models._xinference.credentials import parse_credentials
from models._xinference.hints import docker_localhost_hint, proxy_hint
from models._xinference.model_info import DESCRIPTIONS, ModelDescription
from models._xinference.process_state import reset_process_state
from models._xinference.relaunch import difference
from models.text_embedding.text_embedding import XinferenceTextEmbeddingModel
from tests.helpers import SERVER, fixture_bytes, http_fixture, raw_credentials


@pytest.fixture(autouse=True)
def _fresh_state(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    reset_process_state()
    yield
    reset_process_state()


# ---- a model of another kind ---------------------------------------------------------------------------


def test_a_model_of_no_known_kind_and_no_abilities_is_named_so():
    description = ModelDescription(uid="mystery", model_type="")
    assert wrong_type_message(description, "LLM") == (
        "Model 'mystery' is an unknown model (abilities: none reported), not an LLM: Dify has no model type "
        "for unknown models, so it cannot be used here."
    )


def test_an_image_model_is_told_dify_has_no_type_for_it():
    description = ModelDescription(uid="sd", model_type="image", abilities=frozenset({"text2image"}))
    assert wrong_type_message(description, "Rerank") == (
        "Model 'sd' is an image model (abilities: text2image), not a Rerank model: Dify has no model type "
        "for image models, so it cannot be used here."
    )


# ---- the running models named after a failed validation ---------------------------------------------


def _validate_unknown_uid(listing: dict) -> str:
    status, headers, body = http_fixture("err_01_get_unknown_model.txt")
    with responses.RequestsMock() as mock:
        mock.get(f"{SERVER}/v1/models/nope", status=status, body=body, content_type=headers["content-type"])
        mock.get(f"{SERVER}/v1/models", json=listing)
        with pytest.raises(CredentialsValidateFailedError) as info:
            XinferenceTextEmbeddingModel(model_schemas=[]).validate_credentials(
                "nope", raw_credentials(model_uid="nope")
            )
    return str(info.value)


def _embedders(count: int, *, named: bool = True) -> dict:
    data = [
        {"id": f"e{i}", "model_type": "embedding", **({"model_name": f"bge-{i}"} if named else {})}
        for i in range(count)
    ]
    return {"object": "list", "data": data}


def test_the_running_models_are_listed_with_their_names_or_uid_alone():
    listing = _embedders(1)
    listing["data"].append({"id": "plain", "model_type": "embedding"})
    message = _validate_unknown_uid(listing)
    assert message.endswith(
        "Running Text Embedding models on this server (UID and model name): 'e0' (bge-0), 'plain'."
    )


def test_exactly_ten_running_models_are_all_named_with_no_more():
    message = _validate_unknown_uid(_embedders(10, named=False))
    named = ", ".join(f"'e{i}'" for i in range(10))
    assert message.endswith(f"(UID and model name): {named}.")


def test_a_listing_without_ids_names_models_by_an_empty_uid():
    message = _validate_unknown_uid({"data": [{"model_type": "embedding", "model_name": "bge"}]})
    assert message.endswith("(UID and model name): '' (bge).")


def test_servers_before_0_9_3_list_models_as_an_object_of_uids():
    message = _validate_unknown_uid({"old-embed": {"model_type": "embedding", "model_name": "bge"}})
    assert message.endswith("(UID and model name): 'old-embed' (bge).")


def test_with_half_a_second_of_the_timeout_left_the_list_is_still_read(monkeypatch):
    clock = iter([0.0, 4.5])  # validation started at 0 s; the description failed at 4.5 s of 5 s
    monkeypatch.setattr(base, "time", SimpleNamespace(monotonic=lambda: next(clock)))
    message = _validate_unknown_uid(_embedders(1))
    assert message.endswith("(UID and model name): 'e0' (bge-0).")


def test_a_list_that_is_not_a_json_object_is_an_unusable_answer():
    c = XinferenceClient(parse_credentials(raw_credentials()))
    with responses.RequestsMock() as mock:
        mock.get(f"{SERVER}/v1/models", json=["test-llm"])
        with pytest.raises(InvokeServerUnavailableError) as info:
            c.list_models()
    assert str(info.value) == (
        "Xinference sent an unusable answer to the list of running models: expected a JSON object"
    )


# ---- a UID relaunched as another model ----------------------------------------------------------------


def test_what_changed_names_model_type_abilities_context_and_dimensions():
    before = ModelDescription(uid="m", model_type="embedding", model_name="bge", dimensions=1024)
    now = ModelDescription(
        uid="m", model_type="llm", abilities=frozenset({"generate", "chat"}), context_length=4096
    )
    assert difference(before, now) == (
        "bge (embedding: no abilities listed; 1024 dimensions), now ? (llm: chat, generate; context 4096)"
    )


def test_the_relaunch_note_in_full():
    DESCRIPTIONS.clear()
    c = XinferenceClient(parse_credentials(raw_credentials()))
    describe = f"{SERVER}/v1/models/test-llm"
    with responses.RequestsMock() as mock:
        mock.get(describe, body=fixture_bytes("llm_04_get_model.json"), content_type="application/json")
        c.describe()
        mock.post(f"{SERVER}/v1/chat/completions", status=500, json={"detail": "failed"})
        mock.replace(
            responses.GET,
            describe,
            body=fixture_bytes("llm_15_get_model_generate_only.json"),
            content_type="application/json",
        )
        with pytest.raises(InvokeServerUnavailableError) as info:
            c.post_json("/v1/chat/completions", {}, what="chat")
    assert str(info.value) == (
        "Xinference answered HTTP 500 Internal Server Error to chat: failed — the server failed; see its "
        "log for details — the model running under UID 'test-llm' is not the one the plugin knew: it was "
        "test-tiny-qwen2 (llm: chat, generate, tools; context 2048), now test-tiny-qwen2-base (llm: "
        "generate; context 2048). It was relaunched as a different model; the plugin now uses the new "
        "description, so the next call (and the model's settings in Dify) follow it"
    )


# ---- a dead cluster worker ----------------------------------------------------------------------------


def test_the_dead_worker_message_in_full():
    detail = "[address=127.0.0.1:54940, pid=13241] [Errno 111] Connect call failed ('10.0.0.7', 39375)"
    c = XinferenceClient(parse_credentials(raw_credentials()))
    with responses.RequestsMock() as mock:
        mock.post(f"{SERVER}/v1/chat/completions", status=500, json={"detail": detail})
        with pytest.raises(InvokeServerUnavailableError) as info:
            c.post_json("/v1/chat/completions", {}, what="chat")
    assert str(info.value) == (
        f"Xinference answered HTTP 500 Internal Server Error to chat: {detail} — the Xinference supervisor "
        "cannot reach the worker at 10.0.0.7:39375 that runs this model (or one of its replicas): that "
        "worker is down. Other replicas keep serving; the supervisor stops routing to the dead one after its "
        "health check (about half a minute by default). The plugin already retried (Max retries); if it "
        "was the only replica, launch the model again on a running worker"
    )


# ---- localhost inside the daemon's container ------------------------------------------------------------


def test_the_docker_localhost_advice_in_full_for_a_url_without_a_port():
    assert docker_localhost_hint("https://localhost") == (
        ". The Dify plugin daemon usually runs in its own Docker container, where localhost is that "
        "container itself, not the machine running Xinference: set Server URL to the Xinference host's LAN "
        "address (e.g. https://192.168.1.10) or to https://host.docker.internal; on Linux, "
        'host.docker.internal needs `extra_hosts: ["host.docker.internal:host-gateway"]` on the '
        "plugin_daemon service in Dify's docker-compose file (and Xinference started with --host 0.0.0.0)"
    )


def test_a_refused_lan_address_gets_the_connection_advice_alone():
    c = XinferenceClient(parse_credentials(raw_credentials(server_url="http://192.168.1.10:9997")))
    with responses.RequestsMock() as mock:
        mock.get("http://192.168.1.10:9997/v1/models/test-llm", body=requests.ConnectionError("refused"))
        with pytest.raises(InvokeConnectionError) as info:
            c.describe()
    assert str(info.value) == (
        "the description of model 'test-llm' at http://192.168.1.10:9997: could not connect (refused); "
        "check Server URL and that Xinference is running"
    )


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://gpu-box.lan.:9997", "gpu-box.lan."),  # a name written with the root dot
        ("http://xinference.:9997", "xinference."),
        ("http://[fd00::5]:9997", "fd00::5"),  # IPv6 unique-local
        ("http://[fe80::1]:9997", "fe80::1"),  # link-local
        ("http://169.254.10.1:9997", "169.254.10.1"),
        ("http://[::1]:9997", "::1"),
    ],
)
def test_private_addresses_and_names_get_the_no_proxy_advice(monkeypatch, url, host):
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    assert f"add {host} to NO_PROXY" in proxy_hint(url, proxy_page=False)


@pytest.mark.parametrize(
    "url", ["http://[2606:4700::1111]:9997", "http://1.1.1.1", "http://gpu.example.com."]
)
def test_public_addresses_get_no_no_proxy_advice(monkeypatch, url):
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    assert proxy_hint(url, proxy_page=False) == ""


# ---- a proxy answered instead of Xinference ------------------------------------------------------------

PUBLIC = "http://xinference.example.com"


def _status_error_from_public_host(monkeypatch, status: int, body: str, content_type: str) -> str:
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    c = XinferenceClient(parse_credentials(raw_credentials(server_url=PUBLIC)))
    with responses.RequestsMock() as mock:
        mock.get(f"{PUBLIC}/v1/models", status=status, body=body, content_type=content_type)
        with pytest.raises(InvokeError) as info:
            c.get_json("/v1/models")
    return str(info.value)


@pytest.mark.parametrize("status", [502, 504])
def test_a_gateway_status_blames_the_proxy_even_with_a_json_body(monkeypatch, status):
    message = _status_error_from_public_host(
        monkeypatch, status, '{"detail": "upstream"}', "application/json"
    )
    assert message.endswith(
        ". HTTP_PROXY is set in the plugin daemon's environment, so this request went through that proxy, "
        "and a proxy usually cannot reach a private Xinference address: add xinference.example.com to "
        "NO_PROXY (and no_proxy) for the plugin daemon and restart it"
    )


def test_an_html_page_with_any_status_blames_the_proxy(monkeypatch):
    message = _status_error_from_public_host(monkeypatch, 500, "<html>oops</html>", "text/html")
    assert "add xinference.example.com to NO_PROXY" in message


def test_xinferences_own_503_from_a_public_host_does_not_blame_the_proxy(monkeypatch):
    message = _status_error_from_public_host(monkeypatch, 503, '{"detail": "loading"}', "application/json")
    assert "NO_PROXY" not in message


# ---- what a failed connection was, in the socket's words -----------------------------------------------


def test_a_refused_connection_quotes_the_socket_error_alone():
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(InvokeConnectionError) as info:
        XinferenceClient(parse_credentials(raw_credentials(server_url=url))).get_json("/v1/models")
    assert str(info.value).startswith(
        f"GET /v1/models at {url}: could not connect ([Errno 111] Connection refused); check Server URL"
    )


def test_a_failure_with_no_words_is_named_by_its_type():
    c = XinferenceClient(parse_credentials(raw_credentials()))
    with responses.RequestsMock() as mock:
        mock.get(f"{SERVER}/v1/models", body=requests.ConnectionError())
        with pytest.raises(InvokeConnectionError) as info:
            c.get_json("/v1/models")
    assert str(info.value) == (
        f"GET /v1/models at {SERVER}: could not connect (ConnectionError); check Server URL and that "
        "Xinference is running"
    )
