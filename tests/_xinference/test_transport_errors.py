"""The whole message for each failure below HTTP (models/_xinference/connection_faults.py, transport_error):
a failing proxy, a certificate that cannot be verified, a read timeout however requests raises it, a
refused connection named by the socket's words (also when only requests' summary of the chain is left), and
a failure that is none of these, quoted as it is."""

from __future__ import annotations

import pytest
import requests
import urllib3.exceptions as u3
from urllib3.connection import HTTPConnection

from models._xinference.connection_faults import transport_error
from tests._xinference.client_support import clear_proxy_settings

URL = "http://xinference.test:9997"


@pytest.fixture(autouse=True)
def _no_proxy_settings(monkeypatch):
    clear_proxy_settings(monkeypatch)


def raised(outer: Exception, inner: BaseException) -> Exception:
    """`outer` as raised while handling `inner`, the way requests raises its errors."""
    try:
        try:
            raise inner
        except BaseException:
            raise outer  # noqa: B904  (implicit chaining is the point)
    except Exception as exc:
        return exc


def message(exc: Exception, server_url: str = URL) -> str:
    return str(transport_error(exc, server_url, "chat"))


def test_a_failing_proxy_names_its_error_and_says_to_exempt_the_host(monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    exc = raised(requests.exceptions.ProxyError("Unable to connect to proxy"), OSError("Tunnel failed: 407"))
    assert message(exc) == (
        f"chat at {URL}: the HTTP proxy set in the plugin daemon's environment failed (Tunnel failed: 407). "
        "HTTP_PROXY is set in the plugin daemon's environment, so this request went through that proxy, "
        "and a proxy usually cannot reach a private Xinference address: add xinference.test to NO_PROXY (and "
        "no_proxy) for the plugin daemon and restart it"
    )


def test_a_certificate_that_cannot_be_verified_says_how_to_trust_it_or_turn_verification_off():
    assert message(requests.exceptions.SSLError("CERTIFICATE_VERIFY_FAILED")) == (
        f"chat at {URL}: the TLS certificate could not be verified. Trust it by setting REQUESTS_CA_BUNDLE "
        "on the plugin daemon to a CA file that signs it, or turn off 'Verify TLS certificate' for this model"
    )


@pytest.mark.parametrize(
    "exc",
    [
        requests.exceptions.ReadTimeout("Read timed out. (read timeout=60)"),
        requests.exceptions.ConnectionError(
            u3.ReadTimeoutError(None, "/v1/chat/completions", "Read timed out.")
        ),
    ],
    ids=["before the answer", "while the body streams"],
)
def test_a_read_timeout_is_named_as_one(exc):
    assert (
        message(exc) == f"chat at {URL}: the server stopped answering for longer than the configured timeout"
    )


def test_a_refused_connection_quotes_the_socket_error_found_at_the_end_of_the_chain():
    outer = raised(
        requests.exceptions.ConnectionError("failed"), ConnectionRefusedError(111, "Connection refused")
    )
    assert message(outer) == (
        f"chat at {URL}: could not connect ([Errno 111] Connection refused); check Server URL and that "
        "Xinference is running"
    )


def test_a_cause_without_a_context_is_followed_too():
    outer = requests.exceptions.ConnectionError("failed")
    outer.__cause__ = ConnectionRefusedError(111, "Connection refused")
    assert "could not connect ([Errno 111] Connection refused)" in message(outer)


def test_with_only_requests_summary_left_the_socket_words_are_cut_out_of_it():
    refused = u3.NewConnectionError(
        HTTPConnection("xinference.test", 9997),
        "Failed to establish a new connection: [Errno 111] Connection refused",
    )
    summary = requests.exceptions.ConnectionError(
        u3.MaxRetryError(None, "/v1/chat/completions", reason=refused)
    )
    assert message(summary) == (
        f"chat at {URL}: could not connect ([Errno 111] Connection refused); check Server URL and that "
        "Xinference is running"
    )


def test_a_refused_localhost_gets_the_docker_advice():
    assert message(requests.exceptions.ConnectionError("refused"), "http://localhost:9997").startswith(
        "chat at http://localhost:9997: could not connect (refused); check Server URL and that Xinference is "
        "running. The Dify plugin daemon usually runs in its own Docker container"
    )


def test_a_failure_of_no_known_kind_is_quoted_on_one_line():
    exc = requests.exceptions.InvalidHeader("Invalid leading whitespace in header\n  value: ' x'")
    assert message(exc) == f"chat at {URL}: Invalid leading whitespace in header value: ' x'"
