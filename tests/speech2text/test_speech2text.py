"""Speech-to-text against `responses` fakes: answers recorded from a real Xinference 4.1.0 (tiny Whisper,
audio_stt_*) where they exist, shapes built from API reference §7.1 for the rest (other engines, statuses)."""

import io
import json
from pathlib import Path

import pytest
import requests
import responses
from dify_plugin.errors.model import (
    CredentialsValidateFailedError,
    InvokeAuthorizationError,
    InvokeBadRequestError,
    InvokeConnectionError,
    InvokeRateLimitError,
    InvokeServerUnavailableError,
)

from models.speech2text.speech2text import XinferenceSpeech2TextModel
from tests.helpers import API_KEY, SERVER, fixture_bytes, fixture_json, http_fixture, raw_credentials
from tests.tts.audio_fakes import DESCRIBE_URL, TRANSCRIBE_URL, audio_description, multipart_fields

UID = "whisper-1"
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(200))


def creds(**kw):
    return raw_credentials(model_uid=UID, **kw)


def model():
    return XinferenceSpeech2TextModel(model_schemas=[])


def upload(data=WAV, name="/tmp/tmpab12cd.wav"):
    file = io.BytesIO(data)
    file.name = name  # Dify hands over a temp file named after the upload's type
    return file


@pytest.fixture
def mock():
    with responses.RequestsMock() as rsps:
        yield rsps


def test_multipart_body_has_model_json_format_and_the_whole_file(mock):
    mock.post(TRANSCRIBE_URL, json={"text": " Hello there. "})
    assert model().invoke(UID, creds(), upload()) == "Hello there."
    request = mock.calls[0].request
    assert request.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    parts = multipart_fields(request)
    assert set(parts) == {"model", "response_format", "file"}
    assert parts["model"][2] == UID.encode()
    assert parts["response_format"][2] == b"json"  # Xinference: only json/verbose_json work
    assert parts["file"] == ("audio.wav", "audio/wav", WAV)


@pytest.mark.parametrize(
    ("temp_name", "sent_name", "mime"),
    [
        ("/tmp/x.mp3", "audio.mp3", "audio/mpeg"),
        ("/tmp/x.flac", "audio.flac", "audio/flac"),
        ("/tmp/x.ogg", "audio.ogg", "audio/ogg"),
        ("/tmp/x.m4a", "audio.m4a", "audio/mp4"),
        ("/tmp/x.webm", "audio.webm", "audio/webm"),
        ("/tmp/x.bin", "audio.mp3", "application/octet-stream"),
    ],
)
def test_every_format_dify_accepts_is_uploaded_with_its_type(mock, temp_name, sent_name, mime):
    mock.post(TRANSCRIBE_URL, json={"text": "ok"})
    model().invoke(UID, creds(), upload(name=temp_name))
    filename, content_type, _ = multipart_fields(mock.calls[0].request)["file"]
    assert (filename, content_type) == (sent_name, mime)
    assert "/tmp" not in mock.calls[0].request.body.decode("latin-1")  # no local path leaks


def test_language_is_sent_when_configured(mock):
    mock.post(TRANSCRIBE_URL, json={"text": "你好"})
    assert model().invoke(UID, creds(language="zh"), upload()) == "你好"
    assert multipart_fields(mock.calls[0].request)["language"][2] == b"zh"


def test_verbose_json_shaped_answer_still_gives_the_text(mock):
    # §7.1 verbose_json shape; some engines answer with extra fields even for json
    answer = {"task": "transcribe", "language": "en", "duration": 1.5, "text": "Hi.", "segments": []}
    mock.post(TRANSCRIBE_URL, json=answer)
    assert model().invoke(UID, creds(), upload()) == "Hi."


UNUSABLE = "Xinference sent an unusable answer to transcription on model 'whisper-1': "
SEGMENTS = {"segments": [{"id": n, "start": n, "end": n + 1, "text": "…"} for n in range(5)]}


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"not json", "expected JSON, got text/plain: 'not json'"),
        (b'{"text": "Hi."}', 'expected JSON, got text/plain: \'{"text": "Hi."}\''),
    ],
)
def test_an_answer_that_is_not_json_is_a_server_error_naming_the_model(mock, body, problem):
    mock.post(TRANSCRIBE_URL, body=body)
    with pytest.raises(InvokeServerUnavailableError) as caught:
        model().invoke(UID, creds(), upload())
    assert str(caught.value) == UNUSABLE + problem


@pytest.mark.parametrize(
    "answer",
    [{"segments": []}, ["text"], {"text": None}, SEGMENTS],
    ids=["no text field", "a list", "text null", "long answer quoted to 120 characters"],
)
def test_json_without_a_text_is_a_server_error_quoting_the_answer(mock, answer):
    mock.post(TRANSCRIBE_URL, json=answer)
    with pytest.raises(InvokeServerUnavailableError) as caught:
        model().invoke(UID, creds(), upload())
    assert str(caught.value) == UNUSABLE + f"no text in the answer: {str(answer)[:120]!r}"


def test_empty_file_is_refused_before_sending(mock):
    with pytest.raises(InvokeBadRequestError, match="empty"):
        model().invoke(UID, creds(), upload(b""))
    assert not mock.calls


ERRORS = [
    (400, {"detail": "Model not found in the model list, uid: whisper-1"}, InvokeBadRequestError),
    (401, {"detail": "Invalid credential"}, InvokeAuthorizationError),
    (403, {"detail": "Permission denied"}, InvokeAuthorizationError),
    (404, {"detail": "Model not found"}, InvokeBadRequestError),
    (
        422,
        {"detail": [{"loc": ["body", "model"], "msg": "field required", "type": "missing"}]},
        InvokeBadRequestError,
    ),
    (429, {"detail": "Rate limit reached"}, InvokeRateLimitError),
    (500, "Internal Server Error: Unsupported response format: text", InvokeServerUnavailableError),
    (503, {"detail": "Model is loading, please retry later"}, InvokeServerUnavailableError),
]


@pytest.mark.parametrize(("status", "body", "error"), ERRORS)
def test_every_error_status_is_typed_and_keeps_the_key_secret(mock, status, body, error):
    kwargs = {"json": body} if isinstance(body, dict) else {"body": body}
    mock.post(TRANSCRIBE_URL, status=status, **kwargs)
    with pytest.raises(error) as caught:
        model().invoke(UID, creds(api_key=API_KEY), upload())
    assert f"HTTP {status}" in str(caught.value)
    assert "to transcription on model 'whisper-1'" in str(caught.value)
    assert API_KEY not in str(caught.value)
    assert mock.calls[0].request.headers["Authorization"] == f"Bearer {API_KEY}"


def test_timeout_comes_from_the_credentials(mock):
    mock.post(TRANSCRIBE_URL, json={"text": "ok"})
    model().invoke(UID, creds(invoke_timeout="42"), upload())
    assert mock.calls[0].request.req_kwargs["timeout"] == (10.0, 42.0)


def test_retry_after_refused_connection_sends_the_whole_file_again(mock):
    refused = requests.exceptions.ConnectionError("Failed to establish a new connection: Connection refused")
    mock.post(TRANSCRIBE_URL, body=refused)
    mock.post(TRANSCRIBE_URL, json={"text": "second try"})
    assert model().invoke(UID, creds(max_retries="1"), upload()) == "second try"
    assert len(mock.calls) == 2
    assert multipart_fields(mock.calls[1].request)["file"][2] == WAV


def test_no_retry_budget_means_a_connection_error(mock):
    mock.post(TRANSCRIBE_URL, body=requests.exceptions.ConnectionError("Connection refused"))
    with pytest.raises(InvokeConnectionError):
        model().invoke(UID, creds(max_retries="0"), upload())


# ---- validate_credentials ------------------------------------------------------------


def demo_audio() -> bytes:
    return Path(model()._get_demo_file_path()).read_bytes()


@pytest.mark.parametrize(
    "abilities",
    [["audio2text"], "audio-to-text", ["audio-to-text"], None],
    ids=["list", "old-string", "old-string-in-list", "pre-1.6-no-abilities"],
)
def test_validation_accepts_both_ability_shapes_and_transcribes_the_demo(mock, abilities):
    mock.get(DESCRIBE_URL.format(uid=UID), json=audio_description("whisper-large-v3", "whisper", abilities))
    mock.post(TRANSCRIBE_URL, json={"text": "demo"})
    model().validate_credentials(UID, creds())
    parts = multipart_fields(mock.calls[1].request)
    assert parts["file"][2] == demo_audio()
    assert parts["file"][:2] == ("audio.mp3", "audio/mpeg")


@pytest.mark.parametrize(
    ("description", "advice"),
    [
        (audio_description("ChatTTS", "ChatTTS", ["text2audio"]), "as a TTS model"),
        (audio_description("ChatTTS", "ChatTTS", "text-to-audio"), "as a TTS model"),
        ({"model_type": "LLM", "model_name": "qwen3", "model_ability": ["chat"]}, "as an LLM instead"),
    ],
)
def test_validation_rejects_models_that_do_not_transcribe(mock, description, advice):
    mock.get(DESCRIBE_URL.format(uid=UID), json=description)
    mock.get(f"{SERVER}/v1/models", json=fixture_json("models_list_all.json"))
    with pytest.raises(CredentialsValidateFailedError, match=advice):
        model().validate_credentials(UID, creds())
    # the description, then the running models for the message; no transcription attempted
    assert [c.request.method for c in mock.calls] == ["GET", "GET"]


def test_validation_reports_a_failed_transcription(mock):
    mock.get(DESCRIBE_URL.format(uid=UID), json=audio_description("whisper-tiny", "whisper", ["audio2text"]))
    mock.post(TRANSCRIBE_URL, status=500, body="Internal Server Error: ffmpeg not found")
    with pytest.raises(CredentialsValidateFailedError, match="ffmpeg not found"):
        model().validate_credentials(UID, creds())


def test_validation_with_a_wrong_key_is_a_credentials_error_without_the_key(mock):
    mock.get(DESCRIBE_URL.format(uid=UID), status=401, json={"detail": "Invalid credential"})
    with pytest.raises(CredentialsValidateFailedError) as caught:
        model().validate_credentials(UID, creds(api_key=API_KEY))
    assert "401" in str(caught.value)
    assert API_KEY not in str(caught.value)


def test_schema_is_a_speech2text_model():
    schema = model().get_customizable_model_schema("my-whisper", creds())
    assert schema.model_type.value == "speech2text"
    assert json.loads(schema.model_dump_json())["model"] == "my-whisper"


# ---- answers recorded from a real Xinference 4.1.0 (tiny Whisper, tests/fixtures/.../audio_stt_*) ----


@pytest.mark.parametrize(
    "name", ["audio_stt_02_transcription_json.json", "audio_stt_03_transcription_verbose_json.json"]
)
def test_recorded_json_and_verbose_json_answers_give_the_text(mock, name):
    mock.post(TRANSCRIBE_URL, body=fixture_bytes(name), content_type="application/json")
    assert model().invoke(UID, creds(), upload()) == fixture_json(name)["text"].strip()


def test_recorded_corrupt_upload_500_is_a_bad_request_not_a_server_fault(mock):
    status, headers, body = http_fixture("audio_stt_07_transcription_corrupt_file.txt")
    assert status == 500
    mock.post(TRANSCRIBE_URL, status=status, body=body, content_type=headers["content-type"])
    with pytest.raises(InvokeBadRequestError) as caught:
        model().invoke(UID, creds(), upload(b"\x00\x01garbage"))
    message = str(caught.value)
    assert "HTTP 500" in message and "malformed" in message  # the server's words
    assert "could not decode the audio file" in message  # what to do about it
    assert "see its log" not in message


def test_recorded_unsupported_format_500_stays_a_server_error(mock):
    status, headers, body = http_fixture("audio_stt_06_transcription_format_text.txt")
    mock.post(TRANSCRIBE_URL, status=status, body=body, content_type=headers["content-type"])
    with pytest.raises(InvokeServerUnavailableError, match="Unsupported response format: text"):
        model().invoke(UID, creds(), upload())


def test_validation_with_the_recorded_whisper_description(mock):
    mock.get(DESCRIBE_URL.format(uid=UID), json=fixture_json("audio_stt_01_get_model.json"))
    mock.post(TRANSCRIBE_URL, json=fixture_json("audio_stt_02_transcription_json.json"))
    model().validate_credentials(UID, creds())
    assert multipart_fields(mock.calls[1].request)["file"][2] == demo_audio()
