"""What the hostile server says when it behaves: fixed model descriptions and synthetic answers.

A chat answers "Hello world" (stream: GOOD_FRAMES, the pieces of CHAT_PIECES between a role frame
and a usage frame), embeddings are [i, 1.0, 0.5] for text i, rerank scores fall with the document
index; plus the shared constants (size of the endless bodies) the misbehaviours use (the stall length is
in hostile_wire.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.reliability.hostile_wire import Wire as Handler

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "xinference-4.1.0"
CHAT_PIECES = ["Hel", "lo", " wor", "ld"]
HUGE_BYTES = 768 * 1024 * 1024  # larger than the client's JSON cap; nobody should read it all


def _fixture_json(name: str) -> dict:
    return json.loads((FIXTURES / name).read_bytes())


DESCRIPTIONS = {
    "llm": _fixture_json("llm_04_get_model.json"),
    "embed": _fixture_json("embed_07_get_model.json"),
    "rerank": _fixture_json("rerank_07_get_model.json"),
    "stt": {
        "model_type": "audio",
        "model_name": "whisper-tiny",
        "model_family": "whisper",
        "model_ability": ["audio2text"],
        "replica": 1,
    },
    "tts": {
        "model_type": "audio",
        "model_name": "ChatTTS",
        "model_family": "ChatTTS",
        "model_ability": ["text2audio"],
        "replica": 1,
    },
}
DESCRIPTIONS["embed"] = {**DESCRIPTIONS["embed"], "dimensions": 3}


def sse(data: str) -> bytes:
    return f"data: {data}\r\n\r\n".encode()


def chat_chunk(content: str | None, finish: str | None = None, usage: dict | None = None) -> str:
    delta = {} if content is None else {"content": content}
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return json.dumps(
        {
            "id": "chat-1",
            "model": "llm",
            "object": "chat.completion.chunk",
            "created": 1,
            "choices": [choice],
            "usage": usage,
        }
    )


USAGE = {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9}
GOOD_FRAMES = [
    sse(
        json.dumps(
            {
                "id": "chat-1",
                "model": "llm",
                "object": "chat.completion.chunk",
                "created": 1,
                "choices": [
                    {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}
                ],
            }
        )
    )
]
GOOD_FRAMES += [sse(chat_chunk(piece)) for piece in CHAT_PIECES]
GOOD_FRAMES += [sse(chat_chunk(None, "stop", USAGE)), sse("[DONE]")]


def good_answer(h: Handler) -> None:  # noqa: PLR0911  (one route per return)
    route = h.route
    if h.command == "GET" and route.startswith("/v1/models/"):
        uid = route.rsplit("/", 1)[1]
        kind = uid.split("-", 1)[0]
        if kind in DESCRIPTIONS:
            return h.send_json(200, {**DESCRIPTIONS[kind], "id": uid})
        return h.send_json(400, {"detail": f"Model not found in the model list, uid: {uid}"})
    if h.command == "GET" and route == "/v1/models":
        data = [{**d, "id": f"{k}-model", "object": "model"} for k, d in DESCRIPTIONS.items()]
        return h.send_json(200, {"object": "list", "data": data})
    if route == "/v1/chat/completions":
        return _good_chat(h)
    if route == "/v1/embeddings":
        texts = h.json_body.get("input") or []
        texts = [texts] if isinstance(texts, str) else texts
        data = [
            {"index": i, "object": "embedding", "embedding": [float(i), 1.0, 0.5]} for i in range(len(texts))
        ]
        usage = {"prompt_tokens": 2 * len(texts), "total_tokens": 2 * len(texts)}
        return h.send_json(200, {"object": "list", "model": "embed", "data": data, "usage": usage})
    if route == "/v1/rerank":
        docs = h.json_body.get("documents") or []
        results = [
            {
                "index": i,
                "relevance_score": round(1.0 - i / (len(docs) + 1), 4),
                "document": {"text": d} if h.json_body.get("return_documents") else None,
            }
            for i, d in enumerate(docs)
        ]
        top_n = h.json_body.get("top_n")
        results = results[:top_n] if isinstance(top_n, int) and top_n > 0 else results
        meta = {"api_version": None, "billed_units": None, "tokens": None, "warnings": None}
        return h.send_json(200, {"id": "r-1", "results": results, "meta": meta})
    if route == "/v1/audio/speech":
        return h.send(200, b"ID3" + b"\x00" * 64, "audio/mpeg")
    if route in ("/v1/audio/transcriptions", "/v1/audio/translations"):
        return h.send_json(200, {"text": "hello from audio"})
    return h.send_json(404, {"detail": "Not Found"})


def _good_chat(h: Handler) -> None:
    if h.stream_requested():
        h.start_chunked()
        for frame in GOOD_FRAMES:
            h.chunk(frame)
        return h.end_chunked()
    message = {"role": "assistant", "content": "".join(CHAT_PIECES)}
    choice = {"index": 0, "message": message, "finish_reason": "stop"}
    h.send_json(
        200,
        {
            "id": "chat-1",
            "object": "chat.completion",
            "created": 1,
            "model": "llm",
            "choices": [choice],
            "usage": USAGE,
        },
    )
