"""What the text-to-speech tests share: the model under test called as Dify calls it, its credentials, the
descriptions of the families it meets (recorded Kokoro, ChatTTS and F5-TTS shapes), readers for what was sent,
and the `mock` fixture the tests take (a `responses` mock that tolerates unused routes)."""

import json

import pytest
import responses

from models.tts.tts import XinferenceTTSModel
from tests.helpers import fixture_json, raw_credentials
from tests.tts.audio_fakes import (
    DESCRIBE_URL,
    SPEECH_URL,
    audio_description,
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
