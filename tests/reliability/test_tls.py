"""HTTPS with a self-signed certificate generated at test time (tests/self_signed.py).

Refused with verification on (a message that says how to trust it), working with 'Verify TLS
certificate' set to "Do not verify" (the string "false" the form posts and Dify keeps) — even when
REQUESTS_CA_BUNDLE points at an unrelated CA bundle, as it does on many hosts — and working with
verification on once REQUESTS_CA_BUNDLE names the certificate.
"""

from __future__ import annotations

import ssl

import pytest

from tests.dify_form import dify_stored
from tests.reliability.hostile_server import HostileServer
from tests.reliability.plugin_harness import ACTIONS as PAYLOADS
from tests.reliability.plugin_harness import GuardedPlugin, creds, request
from tests.self_signed import make_certificate, server_context

ACTIONS = ("embed", "llm_stream", "rerank")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def https_server(certificate):
    with HostileServer(tls_context=server_context(certificate)) as server:
        yield server


@pytest.fixture(scope="module")
def plugin_with_other_bundle():
    """REQUESTS_CA_BUNDLE set to the system bundle, which does not contain our certificate."""
    process = GuardedPlugin(env={"REQUESTS_CA_BUNDLE": ssl.get_default_verify_paths().openssl_cafile})
    process.start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def plugin_trusting(certificate):
    process = GuardedPlugin(env={"REQUESTS_CA_BUNDLE": str(certificate[0])})
    process.start()
    yield process
    process.stop()


@pytest.mark.parametrize("action", ACTIONS)
def test_self_signed_is_refused_with_how_to_trust_it(plugin_with_other_bundle, https_server, action):
    result = plugin_with_other_bundle.call(request(action, https_server.url("ok")), timeout=30)
    assert result.error["error_type"] == "InvokeConnectionError", result.error
    message = result.error["message"]
    assert "certificate could not be verified" in message
    assert "REQUESTS_CA_BUNDLE" in message and "Verify TLS certificate" in message


def test_validation_says_the_same(plugin_with_other_bundle, https_server):
    result = plugin_with_other_bundle.call(request("validate", https_server.url("ok")), timeout=30)
    assert result.error["error_type"] == "CredentialsValidateFailedError"
    assert "REQUESTS_CA_BUNDLE" in result.error["message"]


MODEL_TYPES = {"embed": "text-embedding", "llm_stream": "llm", "rerank": "rerank", "validate": "llm"}


def stored_request(action: str, server_url: str, **posted: str) -> dict:
    """The request for `action` with credentials as Dify stores the form posted with `posted`."""
    uid, payload = PAYLOADS[action]
    return payload(dify_stored(MODEL_TYPES[action], creds(server_url, uid, **posted)))


@pytest.mark.parametrize("action", [*ACTIONS, "validate"])
def test_verification_on_as_stored_refuses(plugin_with_other_bundle, https_server, action):
    result = plugin_with_other_bundle.call(stored_request(action, https_server.url("ok")), timeout=30)
    assert result.error is not None and "certificate could not be verified" in result.error["message"]


@pytest.mark.parametrize("action", [*ACTIONS, "validate"])
def test_verification_off_works_even_with_a_ca_bundle_set(plugin_with_other_bundle, https_server, action):
    data = stored_request(action, https_server.url("ok"), tls_verify="false")  # "Do not verify", as stored
    result = plugin_with_other_bundle.call(data, timeout=30)
    assert result.error is None, result.error
    assert result.chunks


@pytest.mark.parametrize("action", [*ACTIONS, "validate"])
def test_trusted_through_requests_ca_bundle(plugin_trusting, https_server, action):
    result = plugin_trusting.call(request(action, https_server.url("ok")), timeout=30)
    assert result.error is None, result.error


def test_plain_http_to_the_https_port_is_a_clear_error(plugin_trusting, https_server):
    url = https_server.url("ok").replace("https://", "http://")
    result = plugin_trusting.call(request("embed", url), timeout=30)
    assert result.error["error_type"] in {"InvokeConnectionError", "InvokeServerUnavailableError"}
