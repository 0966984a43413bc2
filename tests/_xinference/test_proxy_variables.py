"""Which proxy variable the NO_PROXY advice names: the one requests really uses for the server's scheme, or
ALL_PROXY, in the spelling the daemon's environment has. A proxy set only for the other scheme
(HTTPS_PROXY for an http:// server) is not used, so the admin is not told the request went through it."""

from __future__ import annotations

import pytest
import requests
import responses
from dify_plugin.errors.model import InvokeConnectionError

from models._xinference.hints import proxy_hint
from tests._xinference.client_support import clear_proxy_settings, client

PROXY = "http://proxy.example:3128"
LAN = "http://192.168.1.10:9997"


@pytest.fixture(autouse=True)
def _no_proxy_settings(monkeypatch):
    clear_proxy_settings(monkeypatch)


def advice(variable: str, host: str = "192.168.1.10") -> str:
    return (
        f". {variable} is set in the plugin daemon's environment, so this request went through that proxy, "
        f"and a proxy usually cannot reach a private Xinference address: add {host} to NO_PROXY (and "
        "no_proxy) for the plugin daemon and restart it"
    )


@pytest.mark.parametrize("variable", ["ALL_PROXY", "all_proxy", "http_proxy", "HTTP_PROXY"])
def test_the_variable_that_applies_is_named_as_spelled(monkeypatch, variable):
    monkeypatch.setenv(variable, PROXY)
    assert proxy_hint(LAN, proxy_page=False) == advice(variable)


def test_the_schemes_own_variable_is_named_before_all_proxy(monkeypatch):
    monkeypatch.setenv("ALL_PROXY", PROXY)
    monkeypatch.setenv("HTTPS_PROXY", PROXY)
    assert proxy_hint("https://gpu-box.lan:9997", proxy_page=False) == advice("HTTPS_PROXY", "gpu-box.lan")


def test_an_https_proxy_alone_is_not_blamed_for_an_http_server(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", PROXY)
    assert proxy_hint(LAN, proxy_page=False) == ""
    assert proxy_hint(LAN, proxy_page=True) == ""


def test_a_refused_http_server_with_an_https_proxy_set_gets_the_connection_advice_alone(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", PROXY)
    with responses.RequestsMock() as mock:
        mock.get(f"{LAN}/v1/models/test-llm", body=requests.ConnectionError("refused"))
        with pytest.raises(InvokeConnectionError) as info:
            client(server_url=LAN).describe()
    assert str(info.value) == (
        f"the description of model 'test-llm' at {LAN}: could not connect (refused); "
        "check Server URL and that Xinference is running"
    )


def test_a_url_without_a_host_gets_no_advice(monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", PROXY)
    assert proxy_hint("", proxy_page=True) == ""
