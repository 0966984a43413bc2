"""Shapes of Xinference audio answers. Recordings from a real Xinference 4.1.0 (a tiny Whisper and a tiny
Kokoro, tests/fixtures/xinference-4.1.0/audio_*) where they exist; built from the API reference (§2.3, §7)
for what cannot run here (other families, streamed audio): each built fake names its documented shape."""

from __future__ import annotations

import email
import email.policy
import io
import struct
from typing import Any

from tests.helpers import SERVER, http_fixture

DESCRIBE_URL = SERVER + "/v1/models/{uid}"
SPEECH_URL = SERVER + "/v1/audio/speech"
TRANSCRIBE_URL = SERVER + "/v1/audio/transcriptions"


def audio_description(name: str, family: str, abilities: Any, **extra: Any) -> dict[str, Any]:
    """GET /v1/models/{uid} for an audio model (§2.3): model_ability is a list from v1.6.0; the
    catalog's old string form ("text-to-audio") is what servers before v1.5.1 carried."""
    body = {
        "model_type": "audio",
        "model_name": name,
        "model_family": family,
        "model_revision": "main",
        "address": "127.0.0.1:34567",
        "accelerators": ["0"],
        "replica": 1,
        "model_engine": None,
    }
    if abilities is not None:
        body["model_ability"] = abilities
    body.update(extra)
    return body


def recorded_speech(mock, name: str) -> bytes:
    """Answer /v1/audio/speech with a recorded dump (status, content type and body as the server sent)."""
    status, headers, body = http_fixture(name)
    mock.post(SPEECH_URL, status=status, body=body, content_type=headers["content-type"])
    return body


def multipart_fields(request) -> dict[str, tuple[str | None, str | None, bytes]]:
    """The parts of a multipart/form-data request: name -> (filename, content type, bytes)."""
    head = f"Content-Type: {request.headers['Content-Type']}\r\n\r\n".encode()
    message = email.message_from_bytes(head + request.body, policy=email.policy.HTTP)
    parts = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        parts[name] = (part.get_filename(), part.get("Content-Type"), part.get_payload(decode=True))
    return parts


def wav_file(samples: bytes, *, rate: int = 24000, data_size: int | None = None) -> bytes:
    """A complete 16-bit mono WAV file as a non-stream /v1/audio/speech answer with wav format."""
    size = len(samples) if data_size is None else data_size
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    riff_size = (4 + 8 + len(fmt) + 8 + size) & 0xFFFFFFFF
    return (
        b"RIFF"
        + struct.pack("<I", riff_size)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + (b"data" + struct.pack("<I", size) + samples)
    )


class Trickle(io.BufferedReader):
    """A response body that hands out one chunk per read, like a streamed /v1/audio/speech answer
    (raw encoded audio bytes, not SSE). `served` counts the chunks read so far."""

    def __init__(self, chunks: list[bytes]) -> None:
        super().__init__(io.BytesIO(b""))
        self.chunks = list(chunks)
        self.served = 0

    def read(self, amt: int | None = -1) -> bytes:
        if not self.chunks:
            return b""
        self.served += 1
        return self.chunks.pop(0)

    def read1(self, amt: int = -1) -> bytes:
        return self.read(amt)

    @property
    def closed(self) -> bool:
        return not self.chunks
