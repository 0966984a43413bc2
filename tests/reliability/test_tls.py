"""HTTPS with a self-signed certificate generated at test time (openssl CLI).

Refused with verification on (a message that says how to trust it), working with 'Verify TLS
certificate' off — even when REQUESTS_CA_BUNDLE points at an unrelated CA bundle, as it does on many
hosts — and working with verification on once REQUESTS_CA_BUNDLE names the certificate.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess

import pytest

from tests.reliability.hostile_server import HostileServer
from tests.reliability.plugin_harness import GuardedPlugin, request

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI")

ACTIONS = ("embed", "llm_stream", "rerank")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


@pytest.fixture(scope="module")
def https_server(certificate):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*map(str, certificate))
    with HostileServer(tls_context=context) as server:
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


@pytest.mark.parametrize("action", [*ACTIONS, "validate"])
def test_verification_off_works_even_with_a_ca_bundle_set(plugin_with_other_bundle, https_server, action):
    data = request(action, https_server.url("ok"), tls_verify="false")
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
