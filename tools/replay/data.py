"""Recorded Xinference 4.1.0 answers and the synthetic ones the recordings lack, for the replay server."""

from __future__ import annotations

import hashlib
import json
import re
import struct
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "xinference-4.1.0"
JSON = "application/json"

DESCRIPTION_FILES = {
    "test-llm": "llm_04_get_model.json",
    "test-llm-base": "llm_15_get_model_generate_only.json",
    "test-embed": "embed_07_get_model.json",
    "test-rerank": "rerank_07_get_model.json",
    "test-tiny-qwen2-tools": "tools_05_get_model.json",
    "test-reasoning": "reasoning_A02_get_model.json",  # launch A: parser on, thinking on by default
    "test-stt": "audio_stt_01_get_model.json",  # the tiny Whisper
    "test-clip-embed": "mm_01_clip_get_model.json",  # tiny CLIP: embed_vision, 16 dims
    "test-vl-rerank": "mm_06_vl_rerank_get_model.json",  # Qwen3-VL-Reranker-2B: rerank_vision
}
# test-tts stays a built ChatTTS description (v1.6+ shape): streamed speech needs a family that streams, and
# none can run on our machines (the recorded Kokoro refuses `stream`).
AUDIO_DESCRIPTIONS = {
    "test-tts": {"model_name": "ChatTTS", "model_family": "ChatTTS", "model_ability": ["text2audio"]},
}
# Non-streamed speech: the tiny Kokoro's recorded answers, one per format, whatever the text asked.
SPEECH_FILES = {
    "mp3": "audio_tts_02_speech_mp3.txt",
    "wav": "audio_tts_03_speech_wav.txt",
    "flac": "audio_tts_04_speech_flac.txt",
    "ogg": "audio_tts_05_speech_ogg.txt",
}
# (uid, stream, tools, variant) -> recording; variant is "" or "nothink" / "toolresult" for test-reasoning.
CHAT_FILES = {
    ("test-llm", False, False): "llm_05_chat_nonstream.json",
    ("test-llm", True, False): "llm_06_chat_stream_raw_sse.txt",
    ("test-llm", False, True): "llm_09_chat_tools_nonstream.json",
    ("test-llm", True, True): "llm_10_chat_tools_stream_raw_sse.txt",
    ("test-tiny-qwen2-tools", False, False): "tools_01_chat_plain.json",
    ("test-tiny-qwen2-tools", True, False): "tools_02_chat_plain_stream_raw_sse.txt",
    ("test-tiny-qwen2-tools", False, True): "tools_03_chat_toolcall.json",
    ("test-tiny-qwen2-tools", True, True): "tools_04_chat_toolcall_stream_raw_sse.txt",
}
REASONING_FILES = {  # (stream, tools, variant)
    (False, False, ""): "A03_chat_default_nonstream.json",
    (False, False, "nothink"): "A04_chat_ctk_thinking_false_nonstream.json",
    (False, True, ""): "A07_tools_default_nonstream.json",
    (False, True, "nothink"): "A08_tools_thinking_false_nonstream.json",
    (False, True, "toolresult"): "A09_tools_after_tool_result_nonstream.json",
    (True, False, ""): "A10_chat_default_stream_raw_sse.txt",
    (True, False, "nothink"): "A11_chat_ctk_thinking_false_stream_raw_sse.txt",
    (True, True, ""): "A14_tools_default_stream_raw_sse.txt",
    (True, True, "nothink"): "A15_tools_thinking_false_stream_raw_sse.txt",
    (True, True, "toolresult"): "A16_tools_after_tool_result_stream_raw_sse.txt",
}
COMPLETION_FILES = {  # test-llm's completions failed on the real server; the base model's worked
    ("test-llm", False): "llm_07_completions_nonstream.json",
    ("test-llm", True): "llm_08_completions_stream_raw_sse.txt",
    ("test-llm-base", False): "llm_12_completions_nonstream_generate_model.json",
    ("test-llm-base", True): "llm_13_completions_stream_raw_sse_generate_model.txt",
}


def _read(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def _dump(name: str) -> tuple[int, dict[str, str], bytes]:
    """Parse a `curl -i` dump into (status, headers worth replaying, body)."""
    head, _, body = _read(name).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        key, _, value = line.partition(":")
        if key.lower() in ("content-type", "www-authenticate", "retry-after"):
            headers[key.lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


def _sse_frames(raw: bytes) -> list[bytes]:
    """Split a recorded stream into events, keeping each event's own separator (CRLF or LF)."""
    return [m.group(0) for m in re.finditer(rb".*?(?:\r\n\r\n|\n\n)|.+$", raw, re.S) if m.group(0)]


def _descriptions() -> dict[str, dict]:
    out = {uid: json.loads(_read(name)) for uid, name in DESCRIPTION_FILES.items()}
    for uid, extra in AUDIO_DESCRIPTIONS.items():
        out[uid] = {
            "model_type": "audio",
            "address": "127.0.0.1:40000",
            "accelerators": [],
            "model_revision": None,
            "model_engine": None,
            "replica": 1,
            **extra,
        }
    return out


def _vectors() -> list[list[float]]:
    data = json.loads(_read("embed_04_embeddings_batch.json"))["data"]
    data += json.loads(_read("embed_05_embeddings_single.json"))["data"]
    return [item["embedding"] for item in data]


def _silence_wav(seconds: float, rate: int = 16000) -> bytes:
    frames = b"\x00\x00" * int(rate * seconds)
    fmt = struct.pack("<4sIHHIIHH", b"fmt ", 16, 1, 1, rate, rate * 2, 2, 16)
    return (
        b"RIFF"
        + struct.pack("<I", 36 + len(frames))
        + b"WAVE"
        + fmt
        + b"data"
        + struct.pack("<I", len(frames))
        + frames
    )


def _reasoning_variant(body: dict) -> str:
    messages = body.get("messages") or []
    if body.get("tools") and messages and messages[-1].get("role") == "tool":
        return "toolresult"
    ctk = body.get("chat_template_kwargs") or {}
    if isinstance(ctk, str):
        ctk = json.loads(ctk or "{}")
    thinking = body.get("enable_thinking", ctk.get("enable_thinking", True))
    return "" if thinking else "nothink"


TRANSCRIPT = "The quick brown fox jumps over the lazy dog."


def _score(query: str, doc: str) -> float:
    """Deterministic relevance: shared words dominate, a hash breaks ties (the recorded head was random)."""
    q, d = set(query.lower().split()), set(doc.lower().split())
    jitter = int(hashlib.sha256(f"{query}\0{doc}".encode()).hexdigest()[:6], 16) / 0xFFFFFF
    return round(0.05 + 0.9 * len(q & d) / (len(q) or 1) * 0.99 + 0.009 * jitter, 6)


def _synthetic_audio(text: str, fmt: str) -> bytes:
    seconds = min(0.05 * max(len(text), 1), 5.0)
    if fmt == "wav":
        return _silence_wav(seconds)
    frame = b"\xff\xfb\x90\x64" + b"\x00" * 413  # one silent MPEG-1 Layer III frame, 128 kbit/s, 44.1 kHz
    return b"ID3\x03\x00\x00\x00\x00\x00\x00" + frame * max(1, int(seconds * 38))
