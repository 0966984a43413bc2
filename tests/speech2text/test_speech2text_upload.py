"""Speech-to-text uploads Dify hands over without a usable file name, and the operator's debug line for each
transcription (how much audio went out, how much text came back), against `responses` fakes shaped like
API reference §7.1."""

import io
import logging

import pytest
import responses

from models.speech2text.speech2text import XinferenceSpeech2TextModel
from tests.helpers import raw_credentials
from tests.tts.audio_fakes import TRANSCRIBE_URL, multipart_fields

UID = "whisper-1"
AUDIO = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(100))


def transcribe(file):
    return XinferenceSpeech2TextModel(model_schemas=[]).invoke(UID, raw_credentials(model_uid=UID), file)


def named(name):
    file = io.BytesIO(AUDIO)
    file.name = name
    return file


# each case makes its file when it runs: a file object made at collection is read to its end by the first
# run, and a second run in the same process (mutmut's) would upload nothing
@pytest.mark.parametrize(
    "make_file",
    [
        lambda: io.BytesIO(AUDIO),
        lambda: named(None),
        lambda: named(""),
        lambda: named(7),
        lambda: named("/tmp/tmpab12cd"),
    ],
    ids=["no name attribute", "name None", "empty name", "descriptor number", "no suffix"],
)
def test_an_upload_without_a_usable_name_goes_out_as_audio_mp3_of_unknown_type(make_file):
    with responses.RequestsMock() as mock:
        mock.post(TRANSCRIBE_URL, json={"text": "ok"})
        assert transcribe(make_file()) == "ok"
        sent = multipart_fields(mock.calls[0].request)["file"]
    assert sent == ("audio.mp3", "application/octet-stream", AUDIO)


def test_the_debug_log_says_how_much_audio_went_out_and_how_much_text_came_back(caplog):
    # what an operator looks for when a user reports an empty transcript: did the audio reach the server
    caplog.set_level(logging.DEBUG, logger="models.speech2text.speech2text")
    with responses.RequestsMock() as mock:
        mock.post(TRANSCRIBE_URL, json={"text": " Hello there. "})
        assert transcribe(named("/tmp/x.wav")) == "Hello there."
    lines = [r.getMessage() for r in caplog.records if r.name == "models.speech2text.speech2text"]
    assert lines == [f"transcribed {len(AUDIO)} bytes of audio into 14 characters"]
