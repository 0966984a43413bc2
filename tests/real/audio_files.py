"""Audio for the speech tests against a real Xinference: test clips made here, and a WAV reader that
accepts the joined WAV the plugin returns (lengths "unknown", 0xFFFFFFFF, as streaming writers do)."""

from __future__ import annotations

import io
import math
import struct
import wave
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.real.support import OPEN_URL


def tone_wav(seconds: float, rate: int = 16000, hz: float = 440.0) -> bytes:
    """A 16-bit mono sine tone, as a microphone recording in Dify would arrive (a complete WAV)."""
    frames = int(seconds * rate)
    samples = (int(8000 * math.sin(2 * math.pi * hz * i / rate)) for i in range(frames))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as clip:
        clip.setnchannels(1)
        clip.setsampwidth(2)
        clip.setframerate(rate)
        clip.writeframes(struct.pack(f"<{frames}h", *samples))
    return buffer.getvalue()


def demo_mp3() -> bytes:
    """The SDK's own demo file (an MP3), the one the plugin transcribes to validate credentials."""
    from dify_plugin.interfaces.model import speech2text_model

    return (Path(speech2text_model.__file__).parent / "audio.mp3").read_bytes()


@dataclass
class Wav:
    channels: int
    rate: int
    bits: int
    data: bytes
    riff_chunks: int  # how many RIFF headers the bytes contain (1 for one playable file)

    @property
    def seconds(self) -> float:
        return len(self.data) / (self.channels * self.bits // 8) / self.rate


def read_wav(audio: bytes) -> Wav:
    """Parse a RIFF/WAVE file; a data size of 0xFFFFFFFF means "to the end of the bytes"."""
    assert audio[:4] == b"RIFF" and audio[8:12] == b"WAVE", audio[:16]
    pos, fmt = 12, None
    while pos + 8 <= len(audio):
        chunk, size = audio[pos : pos + 4], struct.unpack_from("<I", audio, pos + 4)[0]
        if chunk == b"fmt ":
            fmt = struct.unpack_from("<HHIIHH", audio, pos + 8)
        if chunk == b"data":
            end = len(audio) if size == 0xFFFFFFFF else pos + 8 + size
            assert fmt is not None, "data before fmt"
            _, channels, rate, _, _, bits = fmt
            return Wav(channels, rate, bits, audio[pos + 8 : end], audio.count(b"RIFF"))
        pos += 8 + size + (size & 1)
    raise AssertionError("no data chunk")


def server_transcription(uid: str, audio: bytes, filename: str, **fields: str) -> requests.Response:
    """The same transcription asked of the server directly, to compare with what the plugin returns."""
    with requests.Session() as http:
        http.trust_env = False  # 127.0.0.1 only, never through a proxy
        return http.post(
            OPEN_URL + "/v1/audio/transcriptions",
            data={"model": uid, "response_format": "json", **fields},
            files={"file": (filename, audio)},
            timeout=120,
        )


def server_speech(uid: str, timeout: float = 120, **body: object) -> requests.Response:
    with requests.Session() as http:
        http.trust_env = False
        return http.post(OPEN_URL + "/v1/audio/speech", json={"model": uid, **body}, timeout=timeout)
