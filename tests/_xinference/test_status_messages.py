"""The whole message an admin reads for an HTTP error status: the status line as the server sent it, the
server's own words (a long message keeps its head and tail, 480 characters in all), then a hint — the
generic "see its log" from 500 up, none for a 4xx without one of its own — and never the API key, which
some proxies echo back."""

from __future__ import annotations

import pytest
import responses
from dify_plugin.errors.model import InvokeBadRequestError, InvokeError, InvokeServerUnavailableError

from models._xinference.errors import ModelNotRunningError
from tests._xinference.client_support import CHAT, client, replay
from tests.helpers import API_KEY, SERVER


def chat_error(status: int, body: str, content_type: str = "text/plain", **creds) -> InvokeError:
    with responses.RequestsMock() as mock:
        mock.post(CHAT, status=status, body=body, content_type=content_type)
        with pytest.raises(InvokeError) as info:
            client(**creds).post_json("/v1/chat/completions", {}, what="chat")
    return info.value


def test_a_500_gets_the_generic_server_hint():
    assert str(chat_error(500, "boom")) == (
        "Xinference answered HTTP 500 Internal Server Error to chat: boom — the server failed; see its log "
        "for details"
    )


def test_a_4xx_without_a_hint_of_its_own_ends_with_the_servers_words():
    err = chat_error(409, "busy")
    assert isinstance(err, InvokeBadRequestError)
    assert str(err) == "Xinference answered HTTP 409 Conflict to chat: busy"


def test_a_status_without_a_reason_phrase_is_quoted_by_its_number():
    err = chat_error(599, "gateway gave up")
    assert isinstance(err, InvokeServerUnavailableError)
    assert str(err) == (
        "Xinference answered HTTP 599 to chat: gateway gave up — the server failed; see its log for details"
    )


def test_a_message_of_exactly_480_characters_is_quoted_whole():
    words = "a" * 479 + "z"
    assert chat_error(400, words).detail == words


def test_a_longer_message_keeps_its_first_320_and_last_157_characters():
    words = "h" * 319 + "H" + "m" * 100 + "T" + "t" * 156
    assert chat_error(400, words).detail == "h" * 319 + "H … T" + "t" * 156


def test_a_message_of_many_lines_becomes_one_line():
    assert chat_error(400, "first line\n\n\tsecond   line\r\n").detail == "first line second line"


def test_an_echoed_api_key_is_replaced_in_the_message_the_args_and_the_detail():
    err = chat_error(
        400, '{"detail": "bad header: Bearer ' + API_KEY + '"}', "application/json", api_key=API_KEY
    )
    expected = "Xinference answered HTTP 400 Bad Request to chat: bad header: Bearer [API key]"
    assert (str(err), err.args, err.detail) == (expected, (expected,), "bad header: Bearer [API key]")


def test_an_echoed_key_in_an_unusable_answer_is_replaced_too():
    with responses.RequestsMock() as mock:
        mock.get(SERVER + "/v1/models", body=f"<html>key {API_KEY}</html>", content_type="text/html")
        with pytest.raises(InvokeServerUnavailableError) as info:
            client(api_key=API_KEY).get_json("/v1/models")
    message = str(info.value)
    assert API_KEY not in message and "[API key]" in message
    assert info.value.args == (message,)


def test_an_error_that_does_not_quote_the_key_is_left_as_it_was():
    err = chat_error(400, "API key", api_key=API_KEY)  # the words "API key", not the key
    assert (str(err), err.detail) == ("Xinference answered HTTP 400 Bad Request to chat: API key", "API key")


def test_a_uid_that_is_not_running_says_to_launch_it_or_correct_the_uid():
    with responses.RequestsMock() as mock:
        replay(mock, "GET", SERVER + "/v1/models/no-such-model", "err_01_get_unknown_model.txt")
        with pytest.raises(ModelNotRunningError) as info:
            client(model_uid="no-such-model").describe()
    assert str(info.value) == (
        f"No model with UID 'no-such-model' is running on {SERVER}: launch it in Xinference, or correct the "
        "Model UID (see `xinference list`)"
    )
