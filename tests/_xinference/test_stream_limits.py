"""Streams at their limits: the 8 MiB event cap to the character, CR and CRLF line ends that fall at
the end of a read, the exact error messages an admin reads (naming the request and the server, the
server's own words cut at a bound, the API key never repeated), the last line of a stream without an
end, and the few reads after `[DONE]` that hand the connection back (models/_xinference/stream.py)."""

import pytest
import requests
from dify_plugin.errors.model import InvokeConnectionError, InvokeServerUnavailableError

from models._xinference.stream import MAX_EVENT_CHARS, EventStream, SSEDecoder, SSEEventTooLarge
from tests.helpers import API_KEY, SERVER

WHAT = "chat on test-llm"
UNUSABLE = f"Xinference sent an unusable answer to {WHAT}: "


class Body:
    """A streamed response body arriving in the given reads (one iterator, as in requests), then
    `fail` raised; counts the reads made."""

    def __init__(self, *reads: bytes, fail: Exception | None = None) -> None:
        self._reads = self._gen(list(reads), fail)
        self.reads_made = 0
        self.closed = False

    def _gen(self, reads, fail):
        for read in reads:
            self.reads_made += 1
            yield read
        if fail is not None:
            raise fail

    def iter_content(self, chunk_size=None):
        assert chunk_size is None
        return self._reads

    def close(self) -> None:
        self.closed = True


def events_of(*reads: bytes, fail: Exception | None = None, require_done: bool = False) -> list:
    return list(EventStream(Body(*reads, fail=fail), SERVER, WHAT, require_done=require_done, secret=API_KEY))


def raised_by(*reads: bytes, fail: Exception | None = None) -> str:
    with pytest.raises((InvokeServerUnavailableError, InvokeConnectionError)) as info:
        events_of(*reads, fail=fail)
    return str(info.value)


# ---- the event size cap, to the character -----------------------------------------------------


def test_a_line_without_end_may_reach_the_cap_but_not_pass_it():
    decoder = SSEDecoder()
    assert decoder.feed(b"x" * MAX_EVENT_CHARS) == []
    with pytest.raises(SSEEventTooLarge):
        decoder.feed(b"x")


def test_data_lines_count_with_their_joining_newline_up_to_the_cap():
    """After a finished event, two data lines (the first arriving in two reads) fill the cap exactly."""
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n\n") == ["a"]
    half = MAX_EVENT_CHARS // 2
    decoder.feed(b"data: ")
    decoder.feed(b"y" * (half - 1) + b"\n")
    decoder.feed(b"data: " + b"y" * (MAX_EVENT_CHARS - half - 1) + b"\n")  # each line counts len + 1
    with pytest.raises(SSEEventTooLarge):
        decoder.feed(b"z")


def test_an_oversized_event_is_an_unusable_answer_naming_the_cap():
    assert raised_by(b"data: " + b"x" * MAX_EVENT_CHARS) == (
        UNUSABLE + "a stream event grew past 8 MiB without ending"
    )


# ---- line ends at the end of a read --------------------------------------------------------------


def test_crlf_data_lines_of_one_event_stay_one_event_when_a_read_ends_after_a_line():
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r\n") == []
    assert decoder.feed(b"data: b\r\n\r\n") == ["a\nb"]


def test_crlf_split_between_reads_inside_an_event_is_one_line_end():
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"\ndata: b\r\n\r\n") == ["a\nb"]


def test_a_read_with_only_cr_line_ends_completes_its_event():
    assert SSEDecoder().feed(b"data: c\r\r") == ["c"]


# ---- the last line of a stream without an end ------------------------------------------------------


def test_an_unfinished_ping_at_the_end_of_a_completion_stream_is_a_clean_end():
    assert events_of(b'data: {"x": 1}\n\n', b": ping") == [{"x": 1}]


def test_a_stream_cut_right_after_the_data_field_name_is_cut_mid_event():
    message = raised_by(b'data: {"x": 1}\n\n', b"data")
    assert message == f"{WHAT}: the stream was cut in the middle of an event"


# ---- what the admin reads --------------------------------------------------------------------------


def test_non_json_events_are_quoted_up_to_120_characters():
    long = "<html>" + "x" * 200
    assert raised_by(f"data: {long}\n\n".encode()) == UNUSABLE + f"a stream event is not JSON: {long[:120]!r}"
    listed = "[" + "1, " * 100 + "1]"
    assert raised_by(f"data: {listed}\n\n".encode()) == (
        UNUSABLE + f"a stream event is not a JSON object: {listed[:120]!r}"
    )


def test_an_in_band_error_is_quoted_up_to_300_characters_without_the_key():
    text = f"Bearer {API_KEY} rejected by the proxy " + "x" * 400
    message = raised_by(f'data: {{"error": "{text}"}}\n\n'.encode())
    shown = text.replace(API_KEY, "[API key]")
    assert message == f"Xinference reported an error during {WHAT}: {text[:300]}".replace(
        API_KEY, "[API key]"
    )
    assert API_KEY not in message and shown[:60] in message


def test_an_in_band_error_object_is_shown_as_json():
    message = raised_by(b'data: {"error": {"message": "out of memory", "code": 500}}\n\n')
    assert (
        message == f'Xinference reported an error during {WHAT}: {{"message": "out of memory", "code": 500}}'
    )


def test_a_connection_lost_while_reading_names_the_request_and_the_server():
    message = raised_by(b'data: {"x": 1}\n\n', fail=ConnectionResetError(104, "reset by peer"))
    assert message == f"{WHAT} at {SERVER}: connection lost ([Errno 104] reset by peer)"
    cut = requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead")
    assert raised_by(b'data: {"x": 1}\n\n', fail=cut).startswith(f"{WHAT} at {SERVER}: ")


# ---- after [DONE] ----------------------------------------------------------------------------------


def test_after_done_the_rest_is_read_but_at_most_four_reads():
    """The reads after [DONE] finish the body so the connection goes back to the pool; a server that
    keeps sending cannot hold the finished answer."""
    body = Body(b'data: {"x": 1}\n\ndata: [DONE]\n\n', *[b": ping\n\n"] * 10)
    assert list(EventStream(body, SERVER, WHAT, require_done=True)) == [{"x": 1}]
    assert body.reads_made == 1 + 4 and body.closed
