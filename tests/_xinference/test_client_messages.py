"""The one HTTP client, word for word: the headers and options each request goes out with, and the
messages an admin reads when a request fails — each names the request (`what`) and, below HTTP, the
server; none repeats the API key. Every inference request (JSON, stream, audio) that fails the way a
relaunched model fails says what changed (models/_xinference/client.py, relaunch.py)."""

import pytest
import requests
import responses
from dify_plugin.errors.model import (
    InvokeBadRequestError,
    InvokeConnectionError,
    InvokeServerUnavailableError,
)
from requests.structures import CaseInsensitiveDict

from models._xinference.model_info import DESCRIPTIONS
from tests._xinference.client_support import CHAT, client
from tests.helpers import API_KEY, SERVER, fixture_bytes, fixture_json

MODELS = SERVER + "/v1/models"
SPEECH = SERVER + "/v1/audio/speech"
UNUSABLE = "Xinference sent an unusable answer to chat: "


@pytest.fixture(autouse=True)
def _fresh_cache():
    DESCRIPTIONS.clear()
    yield
    DESCRIPTIONS.clear()


# ---- what goes out ---------------------------------------------------------------------------------


def test_request_headers_json_only_with_a_body():
    with responses.RequestsMock() as mock:
        mock.get(MODELS, json={"data": []})
        mock.post(CHAT, json={})
        c = client(api_key=API_KEY)
        c.get_json("/v1/models")
        c.post_json("/v1/chat/completions", {"x": 1})
        get, post = (dict(call.request.headers) for call in mock.calls)
    accept = "application/json, text/event-stream, */*"
    auth = f"Bearer {API_KEY}"
    assert {k: get[k] for k in ("Accept", "Authorization")} == {"Accept": accept, "Authorization": auth}
    assert "Content-Type" not in get
    assert post["Content-Type"] == "application/json" and post["Accept"] == accept


def test_tls_verification_follows_the_switch_on_every_request():
    """On: the session's setting (True, or the CA bundle it trusts); off: False, so that no
    REQUESTS_CA_BUNDLE in the daemon's environment can turn it back on."""
    with responses.RequestsMock() as mock:
        mock.get(MODELS, json={"data": []})
        on, off = client(tls_verify="true"), client(tls_verify="false")
        on.get_json("/v1/models")
        off.get_json("/v1/models")
        sent = [call.request.req_kwargs["verify"] for call in mock.calls]
    assert sent[0] == on.session.verify and sent[0] not in (False, None)
    assert sent[1] is False


def test_a_schema_look_up_waits_at_most_five_seconds_and_is_not_retried():
    with responses.RequestsMock() as mock:
        mock.get(SERVER + "/v1/models/test-llm", status=503, headers={"Retry-After": "1"})
        assert client(invoke_timeout="60", max_retries="3").describe_for_schema() is None
        assert len(mock.calls) == 1
        assert mock.calls[0].request.req_kwargs["timeout"][1] == 5.0


# ---- what the admin reads -----------------------------------------------------------------------


@pytest.mark.parametrize("status", [300, 301, 302, 303, 307, 308])
def test_every_redirect_status_is_refused_with_the_whole_message(status):
    with responses.RequestsMock() as mock:
        mock.get(MODELS, status=status, headers={"Location": "http://other.test/v1/models"})
        with pytest.raises(InvokeBadRequestError) as info:
            client().get_json("/v1/models", what="the list")
    assert str(info.value) == (
        f"Xinference answered the list with a redirect (HTTP {status}) to http://other.test/v1/models. "
        "The plugin does not follow redirects, so that the API key is never sent elsewhere: "
        "set Server URL to the address the server really answers on."
    )


def test_a_redirect_without_location_says_so():
    with responses.RequestsMock() as mock:
        mock.get(MODELS, status=302)
        with pytest.raises(InvokeBadRequestError, match=r"\(HTTP 302\) to \?\. "):
            client().get_json("/v1/models")


def test_a_status_error_names_the_request():
    with responses.RequestsMock() as mock:
        mock.post(CHAT, status=400, json={"detail": "bad things"})
        with pytest.raises(InvokeBadRequestError) as info:
            client().post_json("/v1/chat/completions", {}, what="chat on 'm'")
    assert str(info.value).startswith("Xinference answered HTTP 400 Bad Request to chat on 'm': bad things")


def test_a_body_that_cannot_be_json_names_the_request():
    with responses.RequestsMock(), pytest.raises(InvokeBadRequestError) as info:
        client().post_json("/v1/embeddings", {"x": float("nan")}, what="embedding with 'e'")
    assert (
        str(info.value)
        == "cannot send embedding with 'e': Out of range float values are not JSON compliant: nan"
    )


def test_a_failing_model_list_names_the_model_list():
    with responses.RequestsMock() as mock:
        mock.get(MODELS, body=b"[1]", content_type="application/json")
        with pytest.raises(InvokeServerUnavailableError) as info:
            client().list_models()
    assert (
        str(info.value)
        == "Xinference sent an unusable answer to the list of running models: expected a JSON object"
    )


def test_an_answer_that_is_no_event_stream_is_quoted_up_to_300_bytes_without_the_key():
    body = f"{API_KEY} \xff".encode("latin-1") + b"z" * 400
    with responses.RequestsMock() as mock:
        mock.post(CHAT, body=body, content_type=None)
        with pytest.raises(InvokeServerUnavailableError) as info:
            client(api_key=API_KEY).stream_events("/v1/chat/completions", {}, what="chat")
    shown = body[:300].decode("utf-8", "replace").replace(API_KEY, "[API key]")
    assert str(info.value) == UNUSABLE + f"expected an event stream, got no content type: {shown!r}"


def _stream(mock, body: bytes) -> None:
    mock.post(CHAT, body=body, content_type="text/event-stream", stream=True)


def test_a_chat_stream_must_end_with_done_unless_told_otherwise():
    with responses.RequestsMock() as mock:
        _stream(mock, b'data: {"x": 1}\n\n')
        with pytest.raises(InvokeConnectionError, match=r"^chat: the stream ended before"):
            list(client().stream_events("/v1/chat/completions", {}, what="chat"))


def test_an_in_band_error_in_a_stream_never_repeats_the_key():
    with responses.RequestsMock() as mock:
        _stream(mock, f'data: {{"error": "bad header Bearer {API_KEY}"}}\n\n'.encode())
        events = client(api_key=API_KEY).stream_events("/v1/chat/completions", {}, what="chat")
        with pytest.raises(InvokeServerUnavailableError) as info:
            list(events)
    assert str(info.value) == "Xinference reported an error during chat: bad header Bearer [API key]"


class _CutResponse:
    """A 200 whose body is cut off after its first bytes."""

    status_code, reason, url = 200, "OK", CHAT

    def __init__(self, content_type: str) -> None:
        self.headers = CaseInsensitiveDict({"content-type": content_type})

    def iter_content(self, chunk_size=None):
        yield b'data: {"x": 1}\n\n'
        raise requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead(3 bytes read)")

    def close(self) -> None:
        pass


@pytest.mark.parametrize(
    ("read", "content_type"),
    [
        (
            lambda c: list(c.stream_events("/v1/chat/completions", {}, what="chat on 'm'")),
            "text/event-stream",
        ),
        (lambda c: list(c.stream_bytes("/v1/audio/speech", {}, what="chat on 'm'")), "audio/mpeg"),
        (lambda c: c.post_for_bytes("/v1/audio/speech", {}, what="chat on 'm'"), "audio/mpeg"),
    ],
    ids=["events", "bytes", "whole body"],
)
def test_a_body_cut_off_names_the_request_and_the_server(monkeypatch, read, content_type):
    c = client()
    monkeypatch.setattr(c.session, "request", lambda *a, **k: _CutResponse(content_type))
    with pytest.raises(InvokeConnectionError) as info:
        read(c)
    assert str(info.value).startswith(f"chat on 'm' at {SERVER}: ")


# ---- a relaunched model, whatever the request ---------------------------------------------------------


@pytest.mark.parametrize(
    "send",
    [
        lambda c: list(c.stream_events("/v1/chat/completions", {}, what="chat")),
        lambda c: list(c.stream_bytes("/v1/chat/completions", {}, what="chat")),
        lambda c: c.post_for_bytes("/v1/chat/completions", {}, what="chat"),
    ],
    ids=["events", "bytes", "whole body"],
)
def test_every_inference_request_says_when_the_model_was_relaunched(send):
    describe = SERVER + "/v1/models/test-llm"
    c = client()
    with responses.RequestsMock() as mock:
        mock.get(describe, body=fixture_bytes("llm_04_get_model.json"), content_type="application/json")
        c.describe()
        mock.post(CHAT, status=500, json=fixture_json("llm_14_chat_on_generate_model.json"))
        mock.replace(
            responses.GET,
            describe,
            body=fixture_bytes("llm_15_get_model_generate_only.json"),
            content_type="application/json",
        )
        with pytest.raises(InvokeServerUnavailableError, match="not the one the plugin knew"):
            send(c)


@pytest.mark.parametrize(
    "send",
    [
        lambda c: c.stream_events("/v1/chat/completions", {}, what="chat on 'm'"),
        lambda c: c.stream_bytes("/v1/chat/completions", {}, what="chat on 'm'"),
    ],
    ids=["events", "bytes"],
)
def test_a_stream_refused_with_a_status_names_the_request(send):
    with responses.RequestsMock() as mock:
        mock.post(CHAT, status=400, json={"detail": "bad things"})
        with pytest.raises(
            InvokeBadRequestError, match=r"^Xinference answered HTTP 400 Bad Request to chat on 'm': "
        ):
            send(client())


def test_a_status_error_quoting_the_key_never_repeats_it():
    with responses.RequestsMock() as mock:
        mock.post(CHAT, status=400, json={"detail": f"header Authorization: Bearer {API_KEY} not allowed"})
        with pytest.raises(InvokeBadRequestError) as info:
            client(api_key=API_KEY).post_json("/v1/chat/completions", {}, what="chat")
    assert API_KEY not in str(info.value) and "Bearer [API key] not allowed" in str(info.value)
