"""Text-to-speech with answers recorded from a real Xinference 4.1.0 running a tiny Kokoro (audio_tts_*):
the real audio bytes, headers and error bodies, replayed through the SDK's public `invoke`."""

import pytest
from dify_plugin.errors.model import InvokeBadRequestError

from tests.tts.audio_fakes import recorded_speech
from tests.tts.tts_support import KOKORO, LONG_TEXT, described, mock, sent, speak, speech_calls

__all__ = ["mock"]  # the fixture, imported for these tests


@pytest.mark.parametrize("fmt", ["mp3", "wav", "flac", "ogg"])
def test_recorded_kokoro_audio_is_passed_on_byte_for_byte(mock, fmt):
    described(mock, KOKORO)
    index = {"mp3": 2, "wav": 3, "flac": 4, "ogg": 5}[fmt]
    body = recorded_speech(mock, f"audio_tts_{index:02d}_speech_{fmt}.txt")
    assert b"".join(speak("Hello world.", "af_heart", audio_format=fmt)) == body
    assert sent(speech_calls(mock)[0])["voice"] == "af_heart"


def test_recorded_wav_pieces_join_into_one_wav(mock):
    described(mock, KOKORO)
    piece = recorded_speech(mock, "audio_tts_03_speech_wav.txt")
    audio = b"".join(speak(LONG_TEXT, audio_format="wav"))
    pieces = len(speech_calls(mock))
    header = piece.index(b"data") + 8
    assert pieces > 1 and audio.count(b"RIFF") == 1
    assert audio[header:] == piece[header:] * pieces  # every piece's samples, none of its header


@pytest.mark.parametrize("name", ["audio_tts_07_speech_aac.txt", "audio_tts_06_speech_pcm.txt"])
def test_recorded_format_the_model_cannot_write_is_a_setting_to_change(mock, name):
    described(mock, KOKORO)
    recorded_speech(mock, name)
    with pytest.raises(InvokeBadRequestError, match="choose another Audio format") as caught:
        b"".join(speak(audio_format="aac"))
    assert "Unknown format" in str(caught.value)
