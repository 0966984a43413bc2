"""The server's own words in an error message, quoted exactly: FastAPI's 422 lists, an OpenAI-style
`error` object, a JSON object sent as text/plain, a body that is not UTF-8 or not JSON at all, and an HTML
page from a proxy with its tags removed."""

from __future__ import annotations

import io
import json

import pytest
import responses
from dify_plugin.errors.model import InvokeBadRequestError, InvokeServerUnavailableError

from models._xinference.errors import ModelNotRunningError
from tests._xinference.client_support import CHAT, client, replay
from tests.helpers import SERVER


def detail_for(status: int, body: bytes | str, content_type: str) -> str:
    """The `detail` the typed error carries for this answer to a chat request."""
    with responses.RequestsMock() as mock:
        mock.post(CHAT, status=status, body=body, content_type=content_type)
        with pytest.raises((InvokeBadRequestError, InvokeServerUnavailableError)) as info:
            client().post_json("/v1/chat/completions", {}, what="chat")
    return info.value.detail


def test_a_422_list_names_each_field_without_body_and_at_most_five():
    items = [
        {"loc": ["body", "messages", 0, "role"], "msg": "field required"},
        {"loc": ["query"]},  # no message: the field alone
        {"msg": "extra fields not permitted"},  # no loc: the message alone
        "a plain string",
        {"loc": ["body", "stop"], "msg": "too many"},
        {"loc": ["body", "n"], "msg": "the sixth is left out"},
    ]
    detail = detail_for(422, json.dumps({"detail": items}), "application/json")
    assert detail == (
        "messages.0.role: field required; query; extra fields not permitted; a plain string; stop: too many"
    )


def test_an_openai_style_error_object_gives_its_message():
    body = {"error": {"message": "context length exceeded", "type": "invalid_request_error"}}
    assert detail_for(400, json.dumps(body), "application/json") == "context length exceeded"


def test_an_error_string_is_quoted():
    assert detail_for(400, json.dumps({"error": "bad stop sequence"}), "application/json") == (
        "bad stop sequence"
    )


def test_an_error_object_without_a_message_is_quoted_as_json():
    body = {"error": {"code": 7}}
    assert detail_for(400, json.dumps(body), "application/json") == '{"code": 7}'


def test_a_json_object_sent_as_plain_text_after_a_newline_is_still_read():
    assert detail_for(400, '\n{"detail": "wrong"}', "text/plain") == "wrong"


def test_broken_json_is_quoted_as_text():
    assert detail_for(500, '{"detail": ', "application/json") == '{"detail":'


def test_a_body_that_is_not_utf8_is_quoted_with_replacement_characters():
    assert detail_for(500, "échec".encode("latin-1"), "text/plain") == "\ufffdchec"


def test_a_proxy_page_is_quoted_as_its_text():
    page = "<html><body><h1>502 Bad Gateway</h1><hr>nginx/1.25</body></html>"
    assert detail_for(502, page, "text/html") == (
        "an HTML page (a proxy or gateway answered, not Xinference): 502 Bad Gateway nginx/1.25"
    )


def test_a_page_without_a_content_type_but_starting_like_html_is_a_proxy_page():
    assert detail_for(503, "<!DOCTYPE html><title>Down</title><p>maintenance</p>", "") == (
        "an HTML page (a proxy or gateway answered, not Xinference): Down maintenance"
    )


def test_a_uid_that_is_not_running_keeps_the_servers_status_and_words():
    with responses.RequestsMock() as mock:
        replay(mock, "GET", SERVER + "/v1/models/test-llm", "err_01_get_unknown_model.txt")
        with pytest.raises(ModelNotRunningError) as info:
            client().describe()
    assert info.value.status_code == 400
    assert info.value.detail.endswith("] Model not found in the model list, uid: no-such-model")


def test_an_html_content_type_is_a_proxy_page_even_without_tags():
    assert detail_for(502, "Bad gateway", "text/html; charset=utf-8") == (
        "an HTML page (a proxy or gateway answered, not Xinference): Bad gateway"
    )


def test_an_upper_case_page_after_a_newline_is_a_proxy_page():
    assert detail_for(504, "\n<HTML><BODY>Gateway Timeout</BODY></HTML>", "application/octet-stream") == (
        "an HTML page (a proxy or gateway answered, not Xinference): Gateway Timeout"
    )


def test_an_empty_error_body_without_a_content_type_is_named_empty():
    with responses.RequestsMock() as mock:
        mock.post(CHAT, status=500, body=b"", content_type=None)
        with pytest.raises(InvokeServerUnavailableError) as info:
            client().post_json("/v1/chat/completions", {}, what="chat")
        assert "content-type" not in mock.calls[0].response.headers
    assert info.value.detail == "(empty body)"


def test_an_endless_error_page_is_quoted_from_its_first_64_kib():
    body = b"x" * (64 * 1024) + b"y" * (16 * 1024)
    detail = detail_for(500, body, "text/plain")
    assert detail.endswith("x" * 150) and "y" not in detail


class EndlessPage(io.RawIOBase):
    """An error body that does not end (a misrouted download): counts how much of it was read."""

    def __init__(self) -> None:
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.bytes_read >= 16 * 2**20:  # the test's own end, far past what may be read
            return 0
        buffer[:] = b"x" * len(buffer)
        self.bytes_read += len(buffer)
        return len(buffer)


def test_an_endless_error_page_is_read_only_as_far_as_it_is_quoted():
    page = EndlessPage()
    detail = detail_for(500, io.BufferedReader(page), "text/plain")
    assert detail.endswith("x" * 150)
    assert page.bytes_read <= 64 * 1024 + 16 * 1024  # the quoted 64 KiB and at most a read or two beyond
