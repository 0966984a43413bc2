"""The transcription format (xi#4291): `json`, which every Xinference speech engine accepts.

ENGINES restates, per engine, which `response_format` values its `transcriptions()` accepts in the
Xinference source (xinference/model/audio/*.py at v1.6/v1.7+ and 4.x): anything else is the server's 500
"Unsupported response format". The plugin's request must work on all of them.
"""

from __future__ import annotations

import io

import pytest
import responses

from models.speech2text.speech2text import RESPONSE_FORMAT, XinferenceSpeech2TextModel
from tests.helpers import raw_credentials
from tests.tts.audio_fakes import DESCRIBE_URL, TRANSCRIBE_URL, audio_description, multipart_fields

ENGINES = {
    "whisper (transformers)": {"json", "verbose_json"},
    "whisper (mlx)": {"json", "verbose_json"},
    "qwen3-asr": {"json", "verbose_json"},
    "mlx-audio": {"json", "verbose_json"},
    "funasr SenseVoice / Paraformer, Xinference 4.x": {"json", "verbose_json"},
    "funasr SenseVoice / Paraformer, before v1.7.0": {"json"},  # verbose_json came with PR 3591
}
JSON = {"content-type": "application/json"}  # the transcription endpoint always answers JSON
TEXT = "欢迎大家来到魔搭社区进行体验。"


def engine(accepted):
    def answer(request):
        wanted = multipart_fields(request)["response_format"][2].decode()
        if wanted not in accepted:
            return 500, JSON, f'{{"detail": "Unsupported response format: {wanted}"}}'
        return 200, JSON, f'{{"text": "{TEXT}"}}'

    return answer


@pytest.mark.parametrize("accepted", ENGINES.values(), ids=ENGINES.keys())
def test_the_plugin_transcribes_on_every_engine(accepted):
    with responses.RequestsMock() as mock:
        mock.add_callback(responses.POST, TRANSCRIBE_URL, callback=engine(accepted))
        audio = io.BytesIO(b"RIFF....WAVEfmt ")
        assert (
            XinferenceSpeech2TextModel(model_schemas=[]).invoke(
                "stt", raw_credentials(model_uid="stt"), audio
            )
            == TEXT
        )


def test_json_is_the_one_format_all_engines_share():
    assert RESPONSE_FORMAT == "json"
    assert set.intersection(*ENGINES.values()) == {RESPONSE_FORMAT}


def test_validation_transcribes_the_demo_with_the_same_format():
    with responses.RequestsMock() as mock:
        mock.get(
            DESCRIBE_URL.format(uid="paraformer-zh-spk"),
            json=audio_description("paraformer-zh-spk", "funasr", ["audio2text"]),
        )
        mock.add_callback(
            responses.POST,
            TRANSCRIBE_URL,
            callback=engine(ENGINES["funasr SenseVoice / Paraformer, before v1.7.0"]),
        )
        XinferenceSpeech2TextModel(model_schemas=[]).validate_credentials(
            "paraformer-zh-spk", raw_credentials(model_uid="paraformer-zh-spk")
        )
        assert multipart_fields(mock.calls[1].request)["response_format"][2] == b"json"


def test_a_speaker_segmented_answer_still_gives_its_text():
    # what FunASR's converter returns for paraformer-zh-spk when verbose_json is asked (xi PR 3591)
    answer = {
        "task": "transcribe",
        "duration": 3.3,
        "text": TEXT,
        "words": [{"start": 1.08, "end": 1.32}],
        "segments": [{"id": 0, "start": 1.08, "end": 4.375, "text": TEXT, "speaker": 0}],
    }
    with responses.RequestsMock() as mock:
        mock.post(TRANSCRIBE_URL, json=answer)
        audio = io.BytesIO(b"RIFF....WAVEfmt ")
        assert (
            XinferenceSpeech2TextModel(model_schemas=[]).invoke(
                "stt", raw_credentials(model_uid="stt"), audio
            )
            == TEXT
        )
