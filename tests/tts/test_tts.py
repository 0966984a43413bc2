"""Text-to-speech end to end through the SDK's public `invoke`, against `responses` fakes: answers recorded
from a real Xinference 4.1.0 (tiny Kokoro, audio_tts_*) where one exists, shapes built from API reference §7.2
for the rest (families that cannot run here, streamed audio, other statuses)."""

import json
import threading

import pytest
import responses
from dify_plugin.entities.model import ModelPropertyKey
from dify_plugin.errors.model import (
    CredentialsValidateFailedError,
    InvokeAuthorizationError,
    InvokeBadRequestError,
    InvokeRateLimitError,
    InvokeServerUnavailableError,
)

from models.tts.tts import XinferenceTTSModel
from tests.helpers import API_KEY, fixture_json, raw_credentials
from tests.tts.audio_fakes import (
    DESCRIBE_URL,
    SPEECH_URL,
    Trickle,
    audio_description,
    recorded_speech,
    wav_file,
)

UID = "my-tts"
CHATTTS = audio_description("ChatTTS", "ChatTTS", ["text2audio", "text2audio_zero_shot"])
KOKORO = fixture_json("audio_tts_01_get_model.json")  # recorded: the tiny Kokoro on Xinference 4.1.0
F5 = audio_description("F5-TTS", "F5-TTS", ["text2audio", "text2audio_zero_shot", "text2audio_voice_cloning"])
LONG_TEXT = " ".join(f"Sentence number {i} is here and it says something." for i in range(30))

WORD_LIMIT = 300  # documented (README "Speech to text and text to speech"): characters per TTS piece


def creds(**kw):
    return raw_credentials(model_uid=UID, **kw)


def model():
    return XinferenceTTSModel(model_schemas=[])


def speak(text="Hello.", voice="", **kw):
    return model().invoke(UID, "tenant", creds(**kw), text, voice)


def sent(call):
    return json.loads(call.request.body)


def speech_calls(mock):
    return [c for c in mock.calls if c.request.url == SPEECH_URL]


@pytest.fixture
def mock():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def described(mock, description=CHATTTS):
    mock.get(DESCRIBE_URL.format(uid=UID), json=description)


def echo_input(mock):
    """Answers each synthesis with fake audio naming the text it was given."""
    mock.add_callback(
        responses.POST,
        SPEECH_URL,
        callback=lambda req: (200, {}, b"<" + json.loads(req.body)["input"].encode() + b">"),
    )


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
    with pytest.raises(InvokeBadRequestError, match="Stream audio"):
        b"".join(speak(tts_streaming=True))


def test_an_empty_answer_is_a_server_error(mock):
    described(mock)
    mock.post(SPEECH_URL, body=b"")
    with pytest.raises(InvokeServerUnavailableError, match="empty"):
        b"".join(speak())


# ---- errors --------------------------------------------------------------------------------

ERRORS = [
    (400, {"detail": "Invalid input"}, InvokeBadRequestError),
    (401, {"detail": "Invalid credential"}, InvokeAuthorizationError),
    (403, {"detail": "Permission denied"}, InvokeAuthorizationError),
    (404, {"detail": "Model not found"}, InvokeBadRequestError),
    (422, {"detail": [{"loc": ["body", "input"], "msg": "field required"}]}, InvokeBadRequestError),
    (429, {"detail": "Rate limit reached"}, InvokeRateLimitError),
    (500, {"detail": "Invalid voice x, CosyVoice available speakers: [...]"}, InvokeServerUnavailableError),
    (503, {"detail": "Model is loading"}, InvokeServerUnavailableError),
]


@pytest.mark.parametrize("streaming", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize(("status", "body", "error"), ERRORS)
def test_every_error_status_is_typed(mock, status, body, error, streaming):
    described(mock)
    mock.post(SPEECH_URL, status=status, json=body)
    with pytest.raises(error) as caught:
        b"".join(speak(api_key=API_KEY, tts_streaming=streaming))
    assert f"HTTP {status}" in str(caught.value)  # the server's words, not the SDK's generic text
    assert API_KEY not in str(caught.value)


def test_auth_failure_on_the_description_is_raised_before_any_audio(mock):
    mock.get(DESCRIBE_URL.format(uid=UID), status=401, json={"detail": "Invalid credential"})
    with pytest.raises(InvokeAuthorizationError):
        speak(api_key=API_KEY)  # raised by invoke itself, not later while iterating
    assert not speech_calls(mock)


def test_error_in_a_later_piece_ends_the_stream_typed_after_the_earlier_audio(mock):
    described(mock)

    def answer(req):
        if "Sentence number 9 " in json.loads(req.body)["input"]:
            return 500, {}, b'{"detail": "CUDA out of memory"}'
        return 200, {}, b"ok"

    mock.add_callback(responses.POST, SPEECH_URL, callback=answer)
    received = []
    with pytest.raises(InvokeServerUnavailableError, match="CUDA out of memory"):
        for chunk in speak(LONG_TEXT):
            received.append(chunk)
    assert received == [b"ok"]  # the first piece, then the failing second one


# ---- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "abilities",
    [["text2audio"], "text-to-audio", ["text2audio_zero_shot", "text2audio_voice_cloning"], None],
    ids=["list", "old-string", "zero-shot-only", "pre-1.6-no-abilities"],
)
def test_validation_accepts_both_ability_shapes_and_synthesises_once(mock, abilities):
    described(mock, audio_description("ChatTTS", "ChatTTS", abilities))
    mock.post(SPEECH_URL, body=b"audio")
    model().validate_credentials(UID, creds())
    (call,) = speech_calls(mock)
    assert sent(call)["input"] == "Hello."
    assert sent(call)["voice"] == "alloy"


@pytest.mark.parametrize(
    "description",
    [
        audio_description("whisper-large-v3", "whisper", ["audio2text"]),
        audio_description("whisper-large-v3", "whisper", "audio-to-text"),
        {"model_type": "embedding", "model_name": "bge-m3"},
    ],
)
def test_validation_rejects_models_that_do_not_speak(mock, description):
    described(mock, description)
    with pytest.raises(CredentialsValidateFailedError, match="not a TTS model"):
        model().validate_credentials(UID, creds())
    assert not speech_calls(mock)


def test_validation_with_streaming_on_catches_a_family_that_cannot_stream(mock):
    described(mock, KOKORO)
    recorded_speech(mock, "audio_tts_08_speech_stream.txt")
    with pytest.raises(CredentialsValidateFailedError, match="Stream audio"):
        model().validate_credentials(UID, creds(tts_streaming=True))
    assert sent(speech_calls(mock)[0])["stream"] is True


def test_validation_fails_on_a_wrong_key_without_showing_it(mock):
    mock.get(DESCRIBE_URL.format(uid=UID), status=401, json={"detail": "Invalid credential"})
    with pytest.raises(CredentialsValidateFailedError) as caught:
        model().validate_credentials(UID, creds(api_key=API_KEY))
    assert API_KEY not in str(caught.value)


# ---- schema and voice list -----------------------------------------------------------------


def test_schema_carries_voices_default_format_and_limits(mock):
    described(mock, KOKORO)
    schema = model().get_customizable_model_schema(UID, creds(audio_format="wav"))
    props = schema.model_properties
    assert props[ModelPropertyKey.DEFAULT_VOICE] == "af_heart"
    assert "bm_george" in [v["mode"] for v in props[ModelPropertyKey.VOICES]]
    assert props[ModelPropertyKey.AUDIO_TYPE] == "wav"
    assert props[ModelPropertyKey.WORD_LIMIT] == WORD_LIMIT
    assert props[ModelPropertyKey.MAX_WORKERS] == 3


def test_voice_list_for_dify_is_language_filtered_with_a_fallback(mock):
    described(mock, KOKORO)
    japanese = model().get_tts_model_voices(UID, creds(), "ja-JP")
    assert {v["value"] for v in japanese} == {
        "jf_alpha",
        "jf_gongitsune",
        "jf_nezumi",
        "jf_tebukuro",
        "jm_kumo",
    }
    assert all(set(v) == {"name", "value"} for v in japanese)
    thai = model().get_tts_model_voices(UID, creds(), "th-TH")
    assert len(thai) == len(model().get_tts_model_voices(UID, creds(), None)) > 40


def test_voice_list_when_the_server_is_down_is_the_placeholder_not_an_error(mock):
    mock.get(DESCRIBE_URL.format(uid=UID), status=503, body="Service Unavailable")
    assert model().get_tts_model_voices(UID, creds(), "en-US") == [
        {"name": "Model default voice", "value": "default"}
    ]
    assert model()._get_model_default_voice(UID, creds()) == "default"


def test_voice_list_with_broken_credentials_is_the_placeholder():
    voices = model().get_tts_model_voices(UID, {"server_url": "not a url", "model_uid": UID}, None)
    assert voices == [{"name": "Model default voice", "value": "default"}]
