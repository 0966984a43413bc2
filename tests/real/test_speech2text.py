"""Speech-to-text through the plugin process against a real Xinference 4.1.0: a tiny random Whisper on
the real transformers ASR path (uploads decoded by ffmpeg). The model says gibberish, so these tests
check structure and that the plugin hands over exactly what the server transcribed, never the words."""

from __future__ import annotations

import pytest

from tests.real.audio_files import demo_mp3, server_transcription, tone_wav
from tests.real.support import UIDS, credentials, error_of, ok
from tools.console import payloads

pytestmark = pytest.mark.real


def _transcribe(plugin, audio: bytes, **creds) -> str:
    chunks = ok(plugin, payloads.stt("my-whisper", credentials(UIDS["stt"], **creds), audio), timeout=180)
    text = chunks[-1]["result"]
    assert isinstance(text, str)
    return text


def _server_text(audio: bytes, filename: str, **fields: str) -> str:
    answer = server_transcription(UIDS["stt"], audio, filename, **fields)
    assert answer.status_code == 200, answer.text[:300]
    return answer.json()["text"].strip()


def test_validation_transcribes_the_demo_file(plugin):
    chunks = ok(plugin, payloads.validate("speech2text", "my-whisper", credentials(UIDS["stt"])), timeout=180)
    assert chunks[-1]["result"] is True


def test_validation_rejects_the_tts_model(plugin):
    error = error_of(plugin, payloads.validate("speech2text", "my-whisper", credentials(UIDS["tts"])))
    assert error["error_type"] == "CredentialsValidateFailedError"
    assert UIDS["tts"] in error["message"] and "TTS" in error["message"]


def test_wav_upload_gives_the_server_transcription(plugin):
    audio = tone_wav(1.5)
    text = _transcribe(plugin, audio)
    assert text  # the tiny model never answers with nothing (its first token cannot be the end)
    assert text == _server_text(audio, "clip.wav")  # temperature 0 and seeded weights: deterministic


def test_mp3_upload(plugin):
    audio = demo_mp3()
    assert audio[:3] == b"ID3" or audio[0] == 0xFF
    assert _transcribe(plugin, audio) == _server_text(audio, "clip.mp3")


def test_language_reaches_the_server(plugin):
    audio = tone_wav(1.5)
    with_language = _transcribe(plugin, audio, language="en")
    assert with_language == _server_text(audio, "clip.wav", language="en")
    # the forced <|en|> token changes what this model writes: proof the field was sent, not ignored
    assert with_language != _server_text(audio, "clip.wav")


def test_a_40_second_file_spanning_two_windows(plugin):
    audio = tone_wav(40)  # Whisper listens in 30 s windows: the pipeline chunks it
    text = _transcribe(plugin, audio)
    assert text and text == _server_text(audio, "long.wav")


@pytest.mark.parametrize("audio", [bytes(range(256)) * 4, b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 40])
def test_corrupt_upload_is_a_bad_request_naming_the_file(plugin, audio):
    # the server answers 500 "Soundfile is either not in the correct format or is malformed"
    error = error_of(plugin, payloads.stt("my-whisper", credentials(UIDS["stt"]), audio))
    assert error["error_type"] == "InvokeBadRequestError", error
    assert "HTTP 500" in error["message"]
    assert "could not decode the audio file" in error["message"]
    assert "malformed" in error["message"]  # the server's own words are kept


@pytest.mark.parametrize("response_format", ["json", "verbose_json"])
def test_both_answer_formats_carry_the_text(response_format):
    """What this server answers for the two formats the plugin could ask for (server only, no plugin)."""
    answer = server_transcription(UIDS["stt"], tone_wav(1.5), "clip.wav", response_format=response_format)
    assert answer.status_code == 200, answer.text[:300]
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert isinstance(body["text"], str) and body["text"]
    if response_format == "verbose_json":
        assert body["task"] == "transcribe"
        assert isinstance(body["segments"], list)
        assert body["duration"] is None or isinstance(body["duration"], float)  # null when no end stamp
    else:
        assert set(body) == {"text"}


def test_text_format_is_refused_by_this_engine():
    """Why the plugin asks for json: Whisper on transformers supports only json and verbose_json."""
    answer = server_transcription(UIDS["stt"], tone_wav(0.5), "clip.wav", response_format="text")
    assert answer.status_code == 500
    assert "Unsupported response format: text" in answer.json()["detail"]
