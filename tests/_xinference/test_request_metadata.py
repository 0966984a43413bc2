"""Per-app attribution (credential enable_request_metadata): X-Dify-App-Id and X-Dify-Source on every
request exactly when enabled and an app id is known; disabled, requests go out as they always did."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
import responses
from dify_plugin.core.session_context import use_current_session

from models._xinference import request_metadata
from tests._xinference.client_support import client
from tests.helpers import API_KEY, SERVER

APP = "5f0c3a1e-9d2b-4c7e-8a61-2b4f9e0d7c35"
LIST = SERVER + "/v1/models"
TODAY = {"User-Agent", "Accept-Encoding", "Accept", "Connection", "Authorization"}  # a GET with a key


def _sent_headers(app_id=..., **creds):
    with responses.RequestsMock() as mock:
        mock.get(LIST, json={"object": "list", "data": []})
        mock.post(SERVER + "/v1/audio/transcriptions", json={"text": "hi"})
        session = None if app_id is ... else SimpleNamespace(app_id=app_id)
        with use_current_session(session):  # type: ignore[arg-type]
            c = client(api_key=API_KEY, **creds)
            c.list_models()
            c.post_multipart(
                "/v1/audio/transcriptions", {"model": "m"}, {"file": ("a.wav", b"RIFF")}, what="t"
            )
        return [_without_boundary(dict(call.request.headers)) for call in mock.calls]


def _without_boundary(headers):
    """The multipart boundary is random per request; everything else must match exactly."""
    if "boundary=" in headers.get("Content-Type", ""):
        headers["Content-Type"] = headers["Content-Type"].split("boundary=")[0]
    return headers


@pytest.mark.parametrize("setting", [None, "disabled"])
def test_disabled_sends_exactly_todays_requests(setting):
    creds = {} if setting is None else {"enable_request_metadata": setting}
    get, upload = _sent_headers(APP, **creds)
    assert set(get) == TODAY
    assert not any(name.lower().startswith("x-dify") for name in upload)
    assert (get, upload) == tuple(_sent_headers(...))  # with no session at all: the same bytes


def test_enabled_attributes_every_request_to_the_app():
    for headers in _sent_headers(APP, enable_request_metadata="enabled"):  # JSON and multipart alike
        assert headers["X-Dify-App-Id"] == APP
        assert headers["X-Dify-Source"] == "dify"
        assert headers["Authorization"] == f"Bearer {API_KEY}"


@pytest.mark.parametrize("app_id", [None, "", ..., "\r\n\t", "éè"])
def test_no_app_id_no_header(app_id):
    get, _ = _sent_headers(app_id, enable_request_metadata="enabled")
    assert set(get) == TODAY


def test_app_id_is_visible_ascii_and_capped():
    get, _ = _sent_headers("app\r\nX-Evil: 1\x00é" + "a" * 500, enable_request_metadata="enabled")
    value = get["X-Dify-App-Id"]
    assert value.startswith("appX-Evil:1")
    assert len(value) == request_metadata.MAX_APP_ID
    assert all("!" <= ch <= "~" for ch in value)


def test_the_whole_visible_ascii_range_is_kept():
    get, _ = _sent_headers("!a~ b\x7f", enable_request_metadata="enabled")
    assert get["X-Dify-App-Id"] == "!a~b"


@pytest.mark.parametrize("session", [None, SimpleNamespace()], ids=["no-session", "no-app-id"])
def test_no_app_id_is_the_normal_case_not_a_failure(session, caplog):
    with caplog.at_level(logging.DEBUG, logger=request_metadata.__name__), use_current_session(session):  # type: ignore[arg-type]
        assert request_metadata.attribution_headers() == {}
    assert not [r for r in caplog.records if r.name == request_metadata.__name__]  # nothing went wrong


def test_a_failing_session_lookup_never_breaks_the_request(monkeypatch, caplog):
    def broken():
        raise RuntimeError("no runtime")

    monkeypatch.setattr(request_metadata, "get_current_session", broken)
    with caplog.at_level(logging.DEBUG, logger=request_metadata.__name__):
        get, upload = _sent_headers(APP, enable_request_metadata="enabled")
    assert set(get) == TODAY and "X-Dify-App-Id" not in upload
    logged = [r for r in caplog.records if r.name == request_metadata.__name__]
    assert logged and logged[0].getMessage() == "no app id for the attribution headers"
    assert logged[0].exc_info and logged[0].exc_info[0] is RuntimeError
