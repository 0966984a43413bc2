"""Shared by the HTTP client tests (test_client_errors.py, test_client_transport.py): a client
built from test credentials and a replay of a recorded HTTP exchange into a `responses` mock."""

from models._xinference.client import XinferenceClient
from models._xinference.credentials import parse_credentials
from tests.helpers import SERVER, http_fixture, raw_credentials

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


def clear_proxy_settings(monkeypatch) -> None:
    """No proxy variable of the daemon's environment, in either spelling, for the test at hand."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
