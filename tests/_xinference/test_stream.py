"""The SSE decoder against real recorded streams and the edge cases the spec allows; EventStream and
ByteStream over real HTTP responses (via `responses`): ends, cuts, errors, closing."""

import json

import pytest
import requests
import responses
from dify_plugin.errors.model import InvokeConnectionError, InvokeServerUnavailableError

from models._xinference.stream import ByteStream, EventStream, SSEDecoder
from tests.helpers import SERVER, fixture_bytes

URL = SERVER + "/v1/chat/completions"
RAW = fixture_bytes("llm_06_chat_stream_raw_sse.txt")


def decode_in_pieces(raw: bytes, size: int) -> tuple[list[str], SSEDecoder]:
    decoder = SSEDecoder()
    events = []
    for i in range(0, len(raw), size):
        events += decoder.feed(raw[i : i + size])
    decoder.flush()
    return events, decoder


def test_recorded_stream_uses_crlf_and_decodes_to_json_events():
    assert b"\r\n\r\n" in RAW
    events, _ = decode_in_pieces(RAW, len(RAW))
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"


@pytest.mark.parametrize("size", [1, 2, 3, 5, 64, 4096])
def test_frames_split_across_reads_decode_identically(size):
    whole, _ = decode_in_pieces(RAW, len(RAW))
    pieces, decoder = decode_in_pieces(RAW, size)
    assert pieces == whole
    assert not decoder.has_partial_event


def test_lf_only_and_crlf_and_cr_line_endings():
    assert SSEDecoder().feed(b"data: a\n\ndata: b\r\n\r\ndata: c\r\rdata: d\n\n") == ["a", "b", "c", "d"]


def test_crlf_split_between_reads_is_one_line_end():
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"\n\r") == ["a"]
    assert decoder.feed(b"\ndata: b\r\n\r\n") == ["b"]


def test_comment_pings_are_skipped():
    raw = b': ping - 2026-11-21 04:18:35\r\n\r\ndata: {"x": 1}\r\n\r\n: ping\r\n\r\n'
    assert SSEDecoder().feed(raw) == ['{"x": 1}']


def test_multiline_data_is_joined_and_other_fields_ignored():
    assert SSEDecoder().feed(b"event: message\nid: 7\ndata: a\ndata: b\nretry: 10\n\n") == ["a\nb"]


def test_data_without_space_after_colon():
    assert SSEDecoder().feed(b"data:{}\n\n") == ["{}"]


def test_utf8_character_split_across_reads():
    raw = "data: 你好\n\n".encode()
    decoder = SSEDecoder()
    events = []
    for byte in raw:
        events += decoder.feed(bytes([byte]))
    assert events == ["你好"]


def test_invalid_utf8_is_replaced_not_fatal():
    assert SSEDecoder().feed(b"data: \xff\xfe ok\n\n") == ["\ufffd\ufffd ok"]


def test_early_eof_leaves_a_partial_event():
    _, decoder = decode_in_pieces(b'data: {"choices": [', 7)
    assert decoder.has_partial_event


def test_eof_after_complete_event_is_clean():
    events, decoder = decode_in_pieces(b"data: 1\n\n", 3)
    assert events == ["1"] and not decoder.has_partial_event


# ---- streams that own their response ----------------------------------------


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
