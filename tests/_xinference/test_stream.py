"""EventStream/ByteStream over real HTTP responses (via `responses`): ends, cuts, errors, closing."""

import pytest
import requests
import responses
from dify_plugin.errors.model import InvokeConnectionError, InvokeServerUnavailableError

from models._xinference.stream import ByteStream, EventStream
from tests.helpers import SERVER, fixture_bytes

URL = SERVER + "/v1/chat/completions"


def open_stream(body: bytes, *, require_done=True, content_type="text/event-stream; charset=utf-8"):
    with responses.RequestsMock() as mock:
        mock.post(URL, body=body, content_type=content_type, stream=True)
        response = requests.post(URL, stream=True, timeout=5)
    return EventStream(response, SERVER, "chat on test-llm", require_done=require_done)


def test_recorded_chat_stream_yields_every_chunk_and_stops_at_done():
    raw = fixture_bytes("llm_06_chat_stream_raw_sse.txt")
    stream = open_stream(raw)
    events = list(stream)
    assert len(events) == raw.count(b"data: {")
    assert events[-1]["choices"][0]["finish_reason"] == "stop"  # 4.1's extra trailing frame
    assert stream.closed


def test_completion_stream_ends_cleanly_without_done():
    raw = fixture_bytes("llm_13_completions_stream_raw_sse_generate_model.txt")
    assert b"[DONE]" not in raw
    events = list(open_stream(raw, require_done=False))
    assert events and events[-1]["choices"] == []


def test_chat_stream_without_done_is_a_connection_error():
    raw = fixture_bytes("llm_06_chat_stream_raw_sse.txt").replace(b"data: [DONE]\r\n\r\n", b"")
    stream = open_stream(raw)
    with pytest.raises(InvokeConnectionError, match="incomplete"):
        list(stream)
    assert stream.closed


def test_stream_cut_mid_event_is_a_connection_error():
    raw = fixture_bytes("llm_06_chat_stream_raw_sse.txt")
    with pytest.raises(InvokeConnectionError, match="middle of an event"):
        list(open_stream(raw[: raw.index(b"data: ", 300) + 20], require_done=False))


def test_in_band_error_frame_is_typed():
    raw = fixture_bytes("llm_08_completions_stream_raw_sse.txt")
    assert b'"error"' in raw
    with pytest.raises(InvokeServerUnavailableError, match="has no attribute"):
        list(open_stream(raw, require_done=False))


def test_non_json_data_is_server_error():
    with pytest.raises(InvokeServerUnavailableError, match="not JSON"):
        list(open_stream(b"data: <html>\n\n"))


def test_abandoned_stream_is_closed():
    stream = open_stream(fixture_bytes("llm_06_chat_stream_raw_sse.txt"))
    iterator = iter(stream)
    next(iterator)
    iterator.close()  # what happens when Dify stops reading
    assert stream.closed


def test_context_manager_closes():
    with open_stream(fixture_bytes("llm_06_chat_stream_raw_sse.txt")) as stream:
        pass
    assert stream.closed


def test_byte_stream_yields_bytes_in_order():
    with responses.RequestsMock() as mock:
        mock.post(SERVER + "/v1/audio/speech", body=b"ID3" + bytes(range(256)) * 10, stream=True)
        response = requests.post(SERVER + "/v1/audio/speech", stream=True, timeout=5)
    stream = ByteStream(response, SERVER, "speech")
    assert b"".join(stream) == b"ID3" + bytes(range(256)) * 10
    assert stream.closed
