"""Requests per call: in steady state an invocation costs exactly one HTTP request, on the pooled session."""

from __future__ import annotations

import json

import pytest
import requests
import responses
from dify_plugin.errors.model import InvokeAuthorizationError

from models._xinference import sessions as client_module
from tests.helpers import SERVER, fixture_bytes, fixture_json, http_fixture
from tests.llm.support import CHAT_URL, COMPLETIONS_URL, SSE, add_description, creds, hello, invoke, model

ANSWERS = {
    CHAT_URL: ("llm_06_chat_stream_raw_sse.txt", "llm_05_chat_nonstream.json"),
    COMPLETIONS_URL: (
        "llm_13_completions_stream_raw_sse_generate_model.txt",
        "llm_12_completions_nonstream_generate_model.json",
    ),
}


def answer(request):
    stream_fixture, json_fixture = ANSWERS[request.url]
    if json.loads(request.body)["stream"]:
        return 200, {"content-type": SSE}, fixture_bytes(stream_fixture)
    return 200, {"content-type": "application/json"}, json.dumps(fixture_json(json_fixture))


@pytest.mark.parametrize(("uid", "url"), [("test-llm", CHAT_URL), ("test-llm-base", COMPLETIONS_URL)])
def test_one_request_per_invocation_in_steady_state(uid, url, monkeypatch):
    sessions_made = []
    real_init = requests.Session.__init__

    def counting_init(self, *args, **kwargs):
        sessions_made.append(self)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(requests.Session, "__init__", counting_init)
    with responses.RequestsMock() as mock:
        add_description(mock, uid)
        mock.add_callback(responses.POST, url, callback=answer)
        invoke(uid, params={"max_tokens": 16})  # first use: the description is read once, then cached
        assert [c.request.method for c in mock.calls] == ["GET", "POST"]

        for stream in (True, False, True, False, True):
            before = len(mock.calls)
            chunks = invoke(uid, params={"temperature": 0.0, "max_tokens": 16}, stream=stream)
            assert chunks[-1].delta.usage is not None
            # Dify asks for the schema around invocations too; that is answered from the cache
            model().get_model_schema(uid, creds(uid))
            model().get_num_tokens(uid, creds(uid), hello(), None)
            calls = mock.calls[before:]
            assert [(c.request.method, c.request.url) for c in calls] == [("POST", url)]
    assert len(sessions_made) == 1  # one pooled keep-alive session for the whole run
    assert len(client_module._sessions) == 1


def test_no_auth_probe_and_the_key_goes_with_the_one_request():
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.add_callback(responses.POST, CHAT_URL, callback=answer)
        invoke(stream=False, api_key="xf-key-1")
        invoke(stream=False, api_key="xf-key-1")
        urls = [c.request.url for c in mock.calls]
        assert urls == [f"{SERVER}/v1/models/test-llm", CHAT_URL, CHAT_URL]
        assert {c.request.headers["Authorization"] for c in mock.calls} == {"Bearer xf-key-1"}


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "blocking"])
def test_a_rejected_key_is_sent_once_per_chat(stream):
    """Dify asks for the schema, then invokes: the description's 401 ends it, no chat request follows."""
    status, headers, body = http_fixture("auth_10_chat_bad_key.txt")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(
            f"{SERVER}/v1/models/test-llm", status=status, body=body, content_type=headers["content-type"]
        )
        mock.post(CHAT_URL, status=status, body=body, content_type=headers["content-type"])
        model().get_model_schema("test-llm", creds(api_key="xf-wrong", max_retries="5"))
        with pytest.raises(InvokeAuthorizationError):
            invoke(stream=stream, api_key="xf-wrong", max_retries="5")
        assert [(c.request.method, c.request.url) for c in mock.calls] == [
            ("GET", f"{SERVER}/v1/models/test-llm")
        ]
