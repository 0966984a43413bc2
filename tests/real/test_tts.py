"""Text-to-speech through the plugin process against a real Xinference 4.1.0: a tiny random Kokoro on the
real KokoroModel path (non-streaming; Kokoro refuses `stream: true`). The audio is noise-like, so these
tests check formats, lengths and what the plugin sends, never what is said."""

from __future__ import annotations

import pytest

from models.tts.text import split_text
from models.tts.tts import WORD_LIMIT
from tests.real.audio_files import read_wav, server_speech, server_transcription
from tests.real.support import UIDS, credentials, error_of, ok
from tools.console import payloads

pytestmark = pytest.mark.real

SENTENCE = "Hello world, this is a test."
# ~320 characters of short sentences: two pieces of at most WORD_LIMIT characters. No longer: the tiny
# Kokoro's decoder still takes ~0.6 s per second of audio (3 s on a busy machine), 300 characters ≈ 17 s.
LONG_TEXT = " ".join(f"Line {i} is here." for i in range(19))
MAGIC = {"wav": (b"RIFF",), "flac": (b"fLaC",), "ogg": (b"OggS",), "mp3": (b"ID3", b"\xff\xf3", b"\xff\xfb")}


def _speak(plugin, text: str = SENTENCE, voice: str = "", **creds) -> bytes:
    data = payloads.tts("my-kokoro", credentials(UIDS["tts"], **creds), text, voice)
    return b"".join(bytes.fromhex(chunk["result"]) for chunk in ok(plugin, data, timeout=360))


def test_validation_synthesises_with_the_default_voice(plugin):
    chunks = ok(plugin, payloads.validate("tts", "my-kokoro", credentials(UIDS["tts"])), timeout=180)
    assert chunks[-1]["result"] is True


def test_voices_come_from_the_kokoro_family_of_the_live_description(plugin):
    voices = ok(plugin, payloads.tts_voices("my-kokoro", credentials(UIDS["tts"])))[-1]["voices"]
    assert {"af_heart", "am_adam", "bf_emma"} <= {v["value"] for v in voices}


@pytest.mark.parametrize("audio_format", ["mp3", "wav", "flac", "ogg"])
def test_every_format_is_real_audio_of_that_format(plugin, audio_format):
    audio = _speak(plugin, audio_format=audio_format)
    assert audio.startswith(MAGIC[audio_format]), audio[:8]
    assert len(audio) > 1000
    if audio_format == "wav":
        wav = read_wav(audio)
        assert (wav.channels, wav.rate, wav.bits, wav.riff_chunks) == (1, 24000, 16, 1)
        assert wav.seconds > 0.2


def test_speed_reaches_the_model(plugin):
    normal = read_wav(_speak(plugin, audio_format="wav")).seconds
    fast = read_wav(_speak(plugin, audio_format="wav", speed="2.0")).seconds
    assert fast < normal * 0.75, (normal, fast)  # Kokoro divides its durations by the speed


def test_a_voice_of_the_model_is_used(plugin):
    assert _speak(plugin, voice="am_adam", audio_format="wav")[:4] == b"RIFF"


def test_default_and_unknown_voices_fall_back_to_one_the_model_has(plugin):
    # sent as is, an unknown voice is a 500 (Kokoro looks for it on the Hub) ...
    answer = server_speech(UIDS["tts"], input=SENTENCE, voice="nosuchvoice", response_format="wav")
    assert answer.status_code == 500
    # ... through the plugin it becomes the family's default voice (af_heart), as does an empty one
    for voice in ("", "nosuchvoice"):
        wav = read_wav(_speak(plugin, voice=voice, audio_format="wav"))
        assert wav.seconds > 0.2


def test_long_text_is_split_and_the_wav_pieces_join_under_one_header(plugin):
    pieces = split_text(LONG_TEXT, WORD_LIMIT)
    assert len(pieces) == 2
    joined = read_wav(_speak(plugin, LONG_TEXT, audio_format="wav", invoke_timeout="300"))
    assert joined.riff_chunks == 1 and (joined.channels, joined.rate, joined.bits) == (1, 24000, 16)
    # every piece's audio is in there, in full: the server's WAV for each piece, header dropped
    singles = []
    for piece in pieces:
        answer = server_speech(UIDS["tts"], input=piece, voice="af_heart", response_format="wav", timeout=300)
        assert answer.status_code == 200, answer.text[:300]
        singles.append(read_wav(answer.content).seconds)
    # Kokoro's durations come from its (random) predictor: the same text gives the same length
    assert joined.seconds == pytest.approx(sum(singles), rel=0.05), (joined.seconds, singles)
    assert joined.seconds > max(singles) + 0.5


def test_tts_mp3_is_transcribed_through_the_plugin_as_by_the_server_directly(plugin):
    """The plugin's synthesised MP3 is a file the STT path uploads and the server decodes (HTTP 200), and
    the plugin returns the server's transcript unchanged. Not a round trip of the words: both models are
    random, so the transcript is gibberish or empty (an empty one on both sides passes)."""
    speech = _speak(plugin, audio_format="mp3")
    assert speech.startswith(MAGIC["mp3"]) and len(speech) > 1000
    data = payloads.stt("my-whisper", credentials(UIDS["stt"]), speech)
    text = ok(plugin, data, timeout=180)[-1]["result"]
    # Kokoro's random weights are drawn anew at each launch, so what the random Whisper hears varies (it
    # may be nothing at all); the same bytes sent to the server directly must give the same text.
    direct = server_transcription(UIDS["stt"], speech, "speech.mp3")
    assert direct.status_code == 200, direct.text[:300]
    assert text == direct.json()["text"].strip()


def test_stream_audio_on_says_this_model_cannot_stream(plugin):
    error = error_of(
        plugin, payloads.tts("my-kokoro", credentials(UIDS["tts"], tts_streaming=True), SENTENCE, "")
    )
    assert error["error_type"] == "InvokeBadRequestError", error
    assert "cannot stream audio" in error["message"]
    assert "does not support stream mode" in error["message"]  # the server's own words
    assert "Stream audio" in error["message"]  # the setting to change


def test_validation_with_stream_audio_on_fails_with_the_same_advice(plugin):
    data = payloads.validate("tts", "my-kokoro", credentials(UIDS["tts"], tts_streaming=True))
    error = error_of(plugin, data, timeout=180)
    assert error["error_type"] == "CredentialsValidateFailedError"
    assert "Stream audio" in error["message"]
