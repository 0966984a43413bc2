"""The pooled session (sessions.py), against real local HTTP servers.

It reads the daemon's proxy and CA settings once, not per request: a proxy still carries every request,
NO_PROXY still exempts a host, and a ~/.netrc cannot replace the API key's header. (REQUESTS_CA_BUNDLE
against the TLS switch: tests/reliability/test_tls.py and test_foundation_fixes.py.) On the wire: the
UID quoted into the path, the client's headers, and a cookie a gateway sets sent back."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import responses

from models._xinference.client import XinferenceClient
from models._xinference.credentials import parse_credentials
from tests.helpers import API_KEY, raw_credentials

PROXY_VARIABLES = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
)


class _Recorder(BaseHTTPRequestHandler):
    """Answers an empty model list and records the request target and headers: a forward proxy
    receives the absolute URL, a server reached directly only the path."""

    def do_GET(self):
        self.server.seen.append((self.path, dict(self.headers)))
        self._answer()

    def do_POST(self):
        sent = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.seen.append((self.path, dict(self.headers), sent))
        self._answer()

    def _answer(self):
        body = json.dumps({"object": "list", "data": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if self.server.set_cookie:
            self.send_header("Set-Cookie", "route=worker-7; Path=/")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _recorder():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.seen = []
    server.set_cookie = False
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def clean_environment(monkeypatch):
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def servers(clean_environment):
    proxy, xinference = _recorder(), _recorder()
    yield proxy, xinference
    for server in (proxy, xinference):
        server.shutdown()
        server.server_close()


def list_models(server_url: str, **creds) -> None:
    XinferenceClient(parse_credentials(raw_credentials(server_url=server_url, **creds))).list_models()


def test_http_proxy_from_the_environment_carries_every_request(monkeypatch, servers):
    proxy, xinference = servers
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    list_models(xinference.url)
    list_models(xinference.url)  # the second call reuses the pooled session: still through the proxy
    assert [path for path, _ in proxy.seen] == [f"{xinference.url}/v1/models"] * 2
    assert xinference.seen == []


def test_no_proxy_exempts_the_server(monkeypatch, servers):
    proxy, xinference = servers
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    list_models(xinference.url)
    assert proxy.seen == [] and [path for path, _ in xinference.seen] == ["/v1/models"]


def test_a_netrc_login_does_not_replace_the_api_key(monkeypatch, servers, tmp_path):
    _proxy, xinference = servers
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password hunter2\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    list_models(xinference.url, api_key=API_KEY)
    assert xinference.seen[0][1]["Authorization"] == f"Bearer {API_KEY}"


@pytest.mark.parametrize(
    ("environment", "verify"),
    [
        ({}, True),
        ({"CURL_CA_BUNDLE": "/etc/curl-ca.pem"}, "/etc/curl-ca.pem"),
        ({"REQUESTS_CA_BUNDLE": "/etc/requests-ca.pem"}, "/etc/requests-ca.pem"),
        (
            {"REQUESTS_CA_BUNDLE": "/etc/requests-ca.pem", "CURL_CA_BUNDLE": "/etc/curl.pem"},
            "/etc/requests-ca.pem",
        ),
    ],
)
def test_verification_on_uses_the_daemons_ca_bundle(monkeypatch, clean_environment, environment, verify):
    """As requests itself would: REQUESTS_CA_BUNDLE, else CURL_CA_BUNDLE, else its own CA store."""
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with responses.RequestsMock() as mock:
        mock.get("https://xinference.test:9997/v1/models", json={"data": []})
        list_models("https://xinference.test:9997", tls_verify=True)
        assert mock.calls[0].request.req_kwargs["verify"] == verify


# ---- on the wire ----------------------------------------------------------------------------------------


def test_the_request_on_the_wire_carries_the_quoted_uid_the_key_and_the_json_body(servers):
    _proxy, xinference = servers
    client = XinferenceClient(parse_credentials(raw_credentials(server_url=xinference.url, api_key=API_KEY)))
    client.post_json("/v1/models/qwen%2F7b%20chat/%C3%BC", {"a": 1}, what="a test")
    ((path, headers, body),) = xinference.seen
    assert path == "/v1/models/qwen%2F7b%20chat/%C3%BC" and body == b'{"a": 1}'
    assert headers["Content-Length"] == "8" and headers["Authorization"] == f"Bearer {API_KEY}"
    assert headers["Content-Type"] == "application/json"
    assert "python-requests" in headers["User-Agent"]  # the session's own headers go too


def test_a_cookie_a_gateway_sets_is_sent_back(servers):
    _proxy, xinference = servers
    xinference.set_cookie = True
    for _ in range(2):
        list_models(xinference.url)  # the same pooled session both times
    assert "Cookie" not in xinference.seen[0][1]
    assert xinference.seen[1][1]["Cookie"] == "route=worker-7"
