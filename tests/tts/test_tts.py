"""Text-to-speech end to end through the SDK's public `invoke`, against `responses` fakes: answers recorded
from a real Xinference 4.1.0 (tiny Kokoro, audio_tts_*) where one exists, shapes built from API reference §7.2
for the rest. This file covers the request (body, format, speed, voice), splitting long text and joining the
audio in order, and streaming."""

import json
import threading

import pytest
import responses
from dify_plugin.errors.model import (
    InvokeBadRequestError,
    InvokeServerUnavailableError,
)

from tests.tts.audio_fakes import (
    SPEECH_URL,
    Trickle,
    recorded_speech,
    wav_file,
)
from tests.tts.tts_support import (
    CHATTTS,
    F5,
    KOKORO,
    LONG_TEXT,
    UID,
    WORD_LIMIT,
    creds,
    described,
    echo_input,
    mock,
    model,
    sent,
    speak,
    speech_calls,
)

__all__ = ["mock"]  # the fixture, imported for these tests


# ---- request shape, format, speed, voice ---------------------------------------------------


def test_non_stream_request_body_and_audio(mock):
    described(mock)
    mock.post(SPEECH_URL, body=b"ID3\x04fake-mp3", content_type="application/octet-stream")
    audio = b"".join(speak("Hello.", "echo"))
    assert audio == b"ID3\x04fake-mp3"
    body = sent(speech_calls(mock)[0])
    assert body == {"model": UID, "input": "Hello.", "voice": "echo", "response_format": "mp3", "speed": 1.0}


def test_format_and_speed_come_from_the_credentials(mock):
    described(mock)
    mock.post(SPEECH_URL, body=wav_file(b"\x00\x01"))
    b"".join(speak(audio_format="wav", speed="1.5"))
    body = sent(speech_calls(mock)[0])
    assert (body["response_format"], body["speed"]) == ("wav", 1.5)
    assert model().get_tts_model_mime_type(UID, creds(audio_format="wav")) == "audio/wav"


@pytest.mark.parametrize(
    ("description", "asked", "sent_voice"),
    [
        (CHATTTS, "nova", "nova"),
        (CHATTTS, "中文女", "alloy"),  # unknown to this model: the default
        (CHATTTS, "", "alloy"),
        (KOKORO, "bf_emma", "bf_emma"),
        (KOKORO, "alloy", "af_heart"),
        (F5, "default", ""),  # zero-shot: no voice, the model's reference voice
        (F5, "whatever", ""),
    ],
)
def test_voice_sent_is_known_or_the_default(mock, description, asked, sent_voice):
    described(mock, description)
    mock.post(SPEECH_URL, body=b"audio")
    b"".join(speak(voice=asked))
    assert sent(speech_calls(mock)[0])["voice"] == sent_voice


def test_admin_default_voice_is_used_for_unknown_voices(mock):
    described(mock, KOKORO)
    mock.post(SPEECH_URL, body=b"audio")
    b"".join(speak(voice="nobody", default_voice="am_adam"))
    assert sent(speech_calls(mock)[0])["voice"] == "am_adam"


# ---- splitting, ordering, joining ----------------------------------------------------------


def test_long_text_is_split_and_the_audio_comes_back_in_order(mock):
    described(mock)
    echo_input(mock)
    chunks = list(speak(LONG_TEXT))
    inputs = [sent(c)["input"] for c in speech_calls(mock)]
    assert len(inputs) > 3
    assert all(len(i) <= WORD_LIMIT for i in inputs)
    assert all(i.endswith(".") for i in inputs)  # cut at sentence ends
    assert b"".join(chunks) == b"".join(b"<" + i.encode() + b">" for i in sorted(inputs, key=LONG_TEXT.index))
    assert " ".join(sorted(inputs, key=LONG_TEXT.index)) == LONG_TEXT


def test_up_to_three_pieces_are_synthesised_at_once(mock):
    """README: pieces are "synthesised up to 3 at a time". Each request waits (briefly) for a fourth to
    arrive at the same time, so the peak is the pool's real width."""
    described(mock)
    in_flight = threading.Condition()
    state = {"active": 0, "peak": 0}

    def overlapping(req):
        with in_flight:
            state["active"] += 1
            state["peak"] = max(state["peak"], state["active"])
            in_flight.notify_all()
            in_flight.wait_for(lambda: state["active"] > 3, timeout=0.3)
            state["active"] -= 1
        return 200, {}, b"<" + json.loads(req.body)["input"].encode() + b">"

    mock.add_callback(responses.POST, SPEECH_URL, callback=overlapping)
    chunks = list(speak(LONG_TEXT))
    assert len(speech_calls(mock)) > 3 and b"".join(chunks).startswith(b"<Sentence number 0 ")
    assert state["peak"] == 3


@pytest.mark.parametrize("fmt", ["flac", "ogg", "opus"])
def test_formats_that_cannot_be_joined_are_not_split(mock, fmt):
    described(mock)
    echo_input(mock)
    b"".join(speak(LONG_TEXT, audio_format=fmt))
    assert [sent(c)["input"] for c in speech_calls(mock)] == [LONG_TEXT]


def test_long_wav_comes_back_as_one_playable_wav(mock):
    described(mock)
    mock.add_callback(responses.POST, SPEECH_URL, callback=lambda req: (200, {}, wav_file(b"\x01\x00" * 8)))
    audio = b"".join(speak(LONG_TEXT, audio_format="wav"))
    pieces = len(speech_calls(mock))
    assert pieces > 1
    assert audio.count(b"RIFF") == 1
    assert audio.endswith(b"\x01\x00" * 8 * pieces)


def test_blank_text_is_a_bad_request(mock):
    described(mock)
    with pytest.raises(InvokeBadRequestError, match="no text"):
        speak("   ")
    assert not speech_calls(mock)


# ---- streaming -----------------------------------------------------------------------------


def test_streaming_yields_bytes_as_they_arrive(mock):
    described(mock)
    body = Trickle([b"ID3-part1", b"part2", b"part3"])
    mock.post(SPEECH_URL, body=body, stream=True, content_type="application/octet-stream")
    stream = speak("Hello.", tts_streaming=True)
    assert next(stream) == b"ID3-part1"
    assert body.served == 1  # the rest has not even been read yet
    assert list(stream) == [b"part2", b"part3"]
    assert sent(speech_calls(mock)[0])["stream"] is True


def test_streaming_long_text_keeps_piece_order(mock):
    described(mock)
    mock.add_callback(
        responses.POST,
        SPEECH_URL,
        callback=lambda req: (200, {}, Trickle([json.loads(req.body)["input"][:12].encode(), b"|"])),
    )
    chunks = list(speak(LONG_TEXT, tts_streaming=True))
    starts = sorted((sent(c)["input"][:12] for c in speech_calls(mock)), key=LONG_TEXT.index)
    assert b"".join(chunks) == b"".join(s.encode() + b"|" for s in starts)


def test_a_family_that_cannot_stream_says_to_turn_streaming_off(mock):
    described(mock, KOKORO)
    recorded_speech(mock, "audio_tts_08_speech_stream.txt")
    with pytest.raises(InvokeBadRequestError) as caught:
        b"".join(speak(tts_streaming=True))
    assert str(caught.value) == (
        "Model 'my-tts' cannot stream audio (Xinference: [address=127.0.0.1:33677, pid=13284] Kokoro does "
        "not support stream mode.). Turn off 'Stream audio' in this model's settings in Dify."
    )


@pytest.mark.parametrize("detail", ["Unsupported response format: opus", "Stream closed by the worker"])
def test_a_500_about_something_other_than_streaming_stays_a_server_error(mock, detail):
    described(mock)
    mock.post(SPEECH_URL, status=500, json={"detail": detail})
    with pytest.raises(InvokeServerUnavailableError, match=detail):
        b"".join(speak(tts_streaming=True))


def test_an_empty_answer_is_a_server_error(mock):
    described(mock)
    mock.post(SPEECH_URL, body=b"")
    with pytest.raises(InvokeServerUnavailableError, match="empty"):
        b"".join(speak())
