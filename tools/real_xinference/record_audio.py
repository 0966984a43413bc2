"""`make fixtures`, audio part: the tiny Whisper's and the tiny Kokoro's answers (audio_stt_*, audio_tts_*).

The clips sent are made here (a 440 Hz tone); `*.json` files are bodies as received, `*.txt` are dumps
(status line, headers, body — for TTS the body is the audio itself, binary).
"""

from __future__ import annotations

import io
import math
import struct
import wave
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from recorder import Recorder

STT, TTS = "/v1/audio/transcriptions", "/v1/audio/speech"
SPEECH = {"model": "test-tts", "input": "Hello world.", "voice": "af_heart"}


def tone_wav(seconds: float, rate: int = 16000) -> bytes:
    frames = int(seconds * rate)
    samples = (int(8000 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(frames))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as clip:
        clip.setnchannels(1)
        clip.setsampwidth(2)
        clip.setframerate(rate)
        clip.writeframes(struct.pack(f"<{frames}h", *samples))
    return buffer.getvalue()


def _multipart(fields: dict[str, str], audio: bytes | None, filename: str) -> tuple[bytes, str]:
    """A multipart/form-data body (with a file part unless `audio` is None) and its Content-Type."""
    boundary = "xinference-dify-plugin-fixture"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    if audio is not None:
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        parts.append((head + "Content-Type: application/octet-stream\r\n\r\n").encode() + audio + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _stt(
    rec: Recorder, name: str, fields: dict[str, str], audio: bytes | None, filename: str = "a.wav"
) -> bytes:
    body, ctype = _multipart({"model": "test-stt", **fields}, audio, filename)
    return rec.record(name, "POST", STT, raw=body, content_type=ctype)


def record_audio(rec: Recorder) -> None:
    r = rec.record
    r("audio_stt_01_get_model.json", "GET", "/v1/models/test-stt")
    r("audio_tts_01_get_model.json", "GET", "/v1/models/test-tts")
    clip = tone_wav(1.5)
    _stt(rec, "audio_stt_02_transcription_json.json", {"response_format": "json"}, clip)
    _stt(rec, "audio_stt_03_transcription_verbose_json.json", {"response_format": "verbose_json"}, clip)
    words = {"response_format": "verbose_json", "timestamp_granularities[]": "word"}
    _stt(rec, "audio_stt_04_transcription_verbose_json_words.json", words, clip)
    _stt(
        rec,
        "audio_stt_05_transcription_language_en.json",
        {"response_format": "json", "language": "en"},
        clip,
    )
    _stt(rec, "audio_stt_06_transcription_format_text.txt", {"response_format": "text"}, clip)
    corrupt = bytes(range(256)) * 4
    _stt(rec, "audio_stt_07_transcription_corrupt_file.txt", {"response_format": "json"}, corrupt)
    _stt(rec, "audio_stt_08_transcription_no_file.txt", {"response_format": "json"}, None)
    unknown = _multipart({"model": "no-such-model", "response_format": "json"}, clip, "a.wav")
    r("audio_stt_09_transcription_unknown_model.txt", "POST", STT, raw=unknown[0], content_type=unknown[1])
    for i, fmt in enumerate(("mp3", "wav", "flac", "ogg"), start=2):
        r(f"audio_tts_{i:02d}_speech_{fmt}.txt", "POST", TTS, {**SPEECH, "response_format": fmt})
    r("audio_tts_06_speech_pcm.txt", "POST", TTS, {**SPEECH, "response_format": "pcm"})
    r("audio_tts_07_speech_aac.txt", "POST", TTS, {**SPEECH, "response_format": "aac"})
    r("audio_tts_08_speech_stream.txt", "POST", TTS, {**SPEECH, "response_format": "mp3", "stream": True})
    r("audio_tts_09_speech_unknown_voice.txt", "POST", TTS, {**SPEECH, "voice": "nosuchvoice"})
    mp3 = r(
        "audio_tts_10_speech_default_voice.txt",
        "POST",
        TTS,
        {**SPEECH, "voice": "", "response_format": "mp3"},
    )
    _stt(rec, "audio_stt_10_transcription_of_tts_mp3.json", {"response_format": "json"}, mp3, "speech.mp3")
    r("audio_tts_11_speech_missing_input.txt", "POST", TTS, {"model": "test-tts", "voice": "af_heart"})
