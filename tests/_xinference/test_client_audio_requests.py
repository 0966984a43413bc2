"""The client's two audio paths, speech-to-text uploads (`post_multipart`) and streamed speech
(`stream_bytes`): their errors name the request and the server, and a failure on either is checked for a
model relaunched under the same UID, like every other inference request (relaunch.py)."""

from __future__ import annotations

import socket
import threading

import pytest
import responses
from dify_plugin.errors.model import (
    InvokeBadRequestError,
    InvokeConnectionError,
    InvokeServerUnavailableError,
)

from models._xinference.model_info import DESCRIPTIONS
from tests._xinference.client_support import client
from tests.helpers import SERVER, fixture_bytes

TRANSCRIBE = "/v1/audio/transcriptions"
SPEECH = "/v1/audio/speech"
DESCRIBE = SERVER + "/v1/models/test-llm"
UPLOAD = ({"model": "test-llm"}, {"file": ("a.wav", b"RIFF....WAVE", "audio/wav")})


def test_a_refused_upload_names_the_transcription():
    with responses.RequestsMock() as mock:
        mock.post(SERVER + TRANSCRIBE, status=400, json={"detail": "language 'xx' is not supported"})
        with pytest.raises(InvokeBadRequestError) as info:
            client().post_multipart(TRANSCRIBE, *UPLOAD, what="transcription of a.wav")
    assert str(info.value).startswith(
        "Xinference answered HTTP 400 Bad Request to transcription of a.wav: language 'xx' is not supported"
    )


def test_an_unreadable_transcription_answer_names_the_transcription():
    with responses.RequestsMock() as mock:
        mock.post(SERVER + TRANSCRIBE, body="hello", content_type="text/plain")
        with pytest.raises(InvokeServerUnavailableError) as info:
            client().post_multipart(TRANSCRIBE, *UPLOAD, what="transcription of a.wav")
    assert str(info.value).startswith("Xinference sent an unusable answer to transcription of a.wav: ")


def test_a_refused_speech_stream_names_the_speech_request():
    with responses.RequestsMock() as mock:
        mock.post(SERVER + SPEECH, status=400, json={"detail": "unknown voice"})
        with pytest.raises(InvokeBadRequestError) as info:
            client().stream_bytes(SPEECH, {"input": "hi"}, what="speech for 2 characters")
    assert str(info.value).startswith(
        "Xinference answered HTTP 400 Bad Request to speech for 2 characters: unknown voice"
    )


@pytest.mark.parametrize("path", [TRANSCRIBE, SPEECH])
def test_a_failed_audio_request_is_checked_for_a_relaunched_model(path):
    DESCRIPTIONS.clear()
    c = client()
    with responses.RequestsMock() as mock:
        mock.get(DESCRIBE, body=fixture_bytes("llm_04_get_model.json"), content_type="application/json")
        c.describe()
        mock.replace(
            responses.GET,
            DESCRIBE,
            body=fixture_bytes("llm_15_get_model_generate_only.json"),
            content_type="application/json",
        )
        mock.post(SERVER + path, status=500, json={"detail": "failed"})
        with pytest.raises(InvokeServerUnavailableError) as info:
            if path == TRANSCRIBE:
                c.post_multipart(path, *UPLOAD, what="audio")
            else:
                c.stream_bytes(path, {"input": "hi"}, what="audio")
    assert "is not the one the plugin knew" in str(info.value)


def test_speech_cut_off_mid_stream_names_the_request_and_the_server():
    """The server promises 1,000 bytes of audio, sends 10 and closes: an error, never a short clip."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)

        def answer_short() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: audio/mpeg\r\nContent-Length: 1000\r\n\r\n")
                conn.sendall(b"ID3\x04\x00\x00\x00\x00\x00\x00")

        threading.Thread(target=answer_short, daemon=True).start()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        stream = client(server_url=url).stream_bytes(SPEECH, {"input": "hi"}, what="speech for 2 characters")
        with pytest.raises(InvokeConnectionError) as info:
            b"".join(stream)
    assert str(info.value) == (
        f"speech for 2 characters at {url}: the connection was cut while the answer was being received"
    )
