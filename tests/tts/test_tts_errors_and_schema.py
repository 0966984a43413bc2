"""Text-to-speech through the SDK's public entry points, against `responses` fakes (recorded Kokoro answers
where one exists, API reference §7.2 shapes for the rest): every error status typed, whole or streamed, an
error in a later piece ending the stream after the earlier audio; validate_credentials; the schema and the
voice list Dify shows, with its placeholder when the server or the credentials fail."""

import json

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

from tests.helpers import API_KEY
from tests.tts.audio_fakes import (
    DESCRIBE_URL,
    SPEECH_URL,
    audio_description,
    recorded_speech,
)
from tests.tts.tts_support import (
    KOKORO,
    LONG_TEXT,
    UID,
    WORD_LIMIT,
    creds,
    described,
    mock,
    model,
    sent,
    speak,
    speech_calls,
)

__all__ = ["mock"]  # the fixture, imported for these tests


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
    assert "to speech synthesis on model 'my-tts'" in str(caught.value)
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


@pytest.mark.parametrize("streaming", [False, True])
def test_validation_fails_when_the_test_synthesis_gives_no_audio(mock, streaming):
    described(mock)
    mock.post(SPEECH_URL, body=b"")
    with pytest.raises(CredentialsValidateFailedError) as caught:
        model().validate_credentials(UID, creds(tts_streaming=streaming))
    empty = "the audio stream was empty" if streaming else "the audio is empty"
    assert (
        str(caught.value)
        == f"Xinference sent an unusable answer to speech synthesis on model 'my-tts': {empty}"
    )


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


def test_the_admins_default_voice_is_the_schema_default_the_listed_voice_and_the_validation_voice(mock):
    described(mock, KOKORO)
    mock.post(SPEECH_URL, body=b"audio")
    schema = model().get_customizable_model_schema(UID, creds(default_voice="narrator_7"))
    assert schema.model_properties[ModelPropertyKey.DEFAULT_VOICE] == "narrator_7"
    assert {"name": "narrator_7", "value": "narrator_7"} in model().get_tts_model_voices(
        UID, creds(default_voice="narrator_7"), "en-US"
    )
    model().validate_credentials(UID, creds(default_voice="narrator_7"))
    assert sent(speech_calls(mock)[-1])["voice"] == "narrator_7"


def test_schema_with_broken_credentials_offers_the_placeholder_voice_and_mp3():
    schema = model().get_customizable_model_schema(UID, {"server_url": "not a url", "model_uid": UID})
    props = schema.model_properties
    assert [v["mode"] for v in props[ModelPropertyKey.VOICES]] == ["default"]
    assert props[ModelPropertyKey.DEFAULT_VOICE] == "default"
    assert props[ModelPropertyKey.AUDIO_TYPE] == "mp3"


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
