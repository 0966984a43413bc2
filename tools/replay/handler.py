"""HTTP handler of the replay server: routes Xinference API calls to recorded or synthetic answers
(how an answer is written out lives in tools/replay/writer.py)."""

from __future__ import annotations

import hashlib
import json
import re
from urllib.parse import unquote, urlsplit

from tools.replay import multimodal as mm
from tools.replay.data import (
    CHAT_FILES,
    COMPLETION_FILES,
    REASONING_FILES,
    SPEECH_FILES,
    TRANSCRIPT,
    _reasoning_variant,
    _score,
    _synthetic_audio,
)
from tools.replay.writer import _ReplayWriter


class _Handler(_ReplayWriter):
    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = urlsplit(self.path).path
        self.replay.record((self.command, path, dict(self.headers.items()), body))
        if not self._authorized(path):
            return self._send_dump(
                "auth_02_models_invalid_key.txt" if self.command == "GET" else "auth_10_chat_bad_key.txt"
            )
        route = ROUTES.get((self.command, path))
        if route is None and self.command == "GET" and path.startswith("/v1/models/"):
            return self._describe(unquote(path.removeprefix("/v1/models/")))
        if route is None:
            return self._send(404, {"detail": "Not Found"})
        if self.command == "POST" and route not in ("transcriptions",):
            try:
                payload = json.loads(body or b"null")
            except ValueError:
                return self._send_dump("err_06_chat_invalid_json.txt")
            return getattr(self, f"_{route}")(payload if isinstance(payload, dict) else {})
        return getattr(self, f"_{route}")(body)

    def _authorized(self, path: str) -> bool:
        if self.replay.api_key is None or path in ("/status", "/v1/cluster/auth"):
            return True
        scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
        return scheme.lower() == "bearer" and token.strip() == self.replay.api_key

    # --- routes ------------------------------------------------------------------------------
    def _model(self, payload: dict, kind: str, missing: str, wrong: str) -> dict | None:
        """The description of payload["model"], or None after answering the recorded error."""
        uid = str(payload.get("model") or "")
        desc = self.replay.descriptions.get(uid)
        if desc is None:
            self._send_dump(missing, uid)
        elif desc["model_type"] != kind:
            self._send_dump(wrong)
            return None
        return desc

    def _list(self, _body: bytes) -> None:
        data = [
            {"id": uid, "object": "model", "created": 0, "owned_by": "xinference", **desc}
            for uid, desc in self.replay.descriptions.items()
        ]
        self._send(200, {"object": "list", "data": data})

    def _describe(self, uid: str) -> None:
        desc = self.replay.descriptions.get(uid)
        return self._send(200, desc) if desc else self._send_dump("err_01_get_unknown_model.txt", uid)

    def _auth_status(self, _body: bytes) -> None:
        self._send(200, {"auth": self.replay.api_key is not None})

    def _status(self, _body: bytes) -> None:
        self._send(200, {"uptime": 1.0, "workers": {}})

    def _chat(self, payload: dict) -> None:
        stream = bool(payload.get("stream"))
        desc = self._model(
            payload,
            "LLM",
            "err_16_chat_stream_unknown_model.txt" if stream else "err_02_chat_unknown_model.txt",
            "err_15_chat_with_embed_model.txt",
        )
        if desc is None:
            return None
        if "messages" not in payload:
            return self._send_dump("err_07_chat_missing_messages.txt")
        if "chat" not in desc.get("model_ability", []):
            return self._send_recording("llm_14_chat_on_generate_model.json")
        tools = bool(payload.get("tools"))
        if payload["model"] == "test-reasoning":
            return self._send_recording(
                "reasoning_" + REASONING_FILES[(stream, tools, _reasoning_variant(payload))]
            )
        return self._send_recording(CHAT_FILES[(payload["model"], stream, tools)])

    def _completions(self, payload: dict) -> None:
        if self._model(
            payload, "LLM", "err_05_completions_unknown_model.txt", "err_15_chat_with_embed_model.txt"
        ):
            name = COMPLETION_FILES.get((payload["model"], bool(payload.get("stream"))))
            return self._send_recording(name) if name else self._send(500, {"detail": "not recorded"})
        return None

    def _embeddings(self, payload: dict) -> None:
        if not self._model(
            payload, "embedding", "err_03_embed_unknown_model.txt", "err_13_embed_with_llm_model.txt"
        ):
            return None
        if "input" not in payload:
            return self._send_dump("err_10_embed_missing_input.txt")
        texts = payload["input"] if isinstance(payload["input"], list) else [payload["input"]]
        dimensions = self.replay.descriptions[payload["model"]].get("dimensions")
        if mm.is_multimodal(texts) or dimensions not in (None, len(self.replay.vectors[0])):
            answer = mm.embeddings_answer(payload["model"], texts, dimensions)
            return self._send_dump(answer) if isinstance(answer, str) else self._send(200, answer)
        vectors = self.replay.vectors
        data = [
            {"index": i, "object": "embedding", "embedding": vectors[i % len(vectors)]}
            for i in range(len(texts))
        ]
        tokens = sum(len(str(t).split()) + 2 for t in texts)
        self._send(
            200,
            {
                "object": "list",
                "model": payload["model"],
                "model_replica": f"{payload['model']}-rep0",
                "data": data,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )

    def _rerank(self, payload: dict) -> None:
        if not self._model(
            payload, "rerank", "err_04_rerank_unknown_model.txt", "err_14_rerank_with_embed_model.txt"
        ):
            return None
        if "documents" not in payload:
            return self._send_dump("err_11_rerank_missing_documents.txt")
        query, docs = str(payload.get("query", "")), [str(d) for d in payload["documents"]]
        items = [payload.get("query"), *payload["documents"]]  # dicts for a multimodal reranker
        scores = (
            [mm.score(items[0], doc) for doc in items[1:]]
            if mm.is_multimodal(items)
            else [_score(query, doc) for doc in docs]
        )
        results = sorted(
            (
                {
                    "index": i,
                    "relevance_score": scores[i],
                    "document": {"text": doc} if payload.get("return_documents") else None,
                }
                for i, doc in enumerate(docs)
            ),
            key=lambda r: -r["relevance_score"],
        )
        if payload.get("top_n") is not None:
            results = results[: int(payload["top_n"])]
        tokens = sum(len(d.split()) + len(query.split()) for d in docs)
        meta = {
            "api_version": None,
            "billed_units": None,
            "warnings": None,
            "tokens": {"input_tokens": tokens, "output_tokens": tokens}
            if payload.get("return_len")
            else None,
        }
        self._send(
            200, {"id": hashlib.sha256(query.encode()).hexdigest()[:32], "results": results, "meta": meta}
        )

    def _transcriptions(self, body: bytes) -> None:
        fields = dict(
            re.findall(
                rb'name="([^"]+)"(?:; filename="[^"]*")?\r\n(?:[^\r\n]+\r\n)*\r\n(.*?)\r\n--', body, re.S
            )
        )
        uid = fields.get(b"model", b"").decode()
        if not uid or b"file" not in fields:
            return self._send(
                422, {"detail": [{"loc": ["body", "model" if not uid else "file"], "msg": "field required"}]}
            )
        if self._model(
            {"model": uid}, "audio", "err_02_chat_unknown_model.txt", "err_15_chat_with_embed_model.txt"
        ):
            fmt = fields.get(b"response_format", b"json").decode()
            if fmt not in ("json", "verbose_json"):
                return self._send(500, {"detail": f"Unsupported response format: {fmt}"})
            return self._send(200, {"text": TRANSCRIPT})
        return None

    def _speech(self, payload: dict) -> None:
        if not self._model(
            payload, "audio", "err_02_chat_unknown_model.txt", "err_15_chat_with_embed_model.txt"
        ):
            return None
        if not payload.get("input"):
            return self._send_dump("err_07_chat_missing_messages.txt")
        audio_format = str(payload.get("response_format") or "mp3")
        if not payload.get("stream") and audio_format in SPEECH_FILES:
            return self._send_dump(SPEECH_FILES[audio_format])
        audio = _synthetic_audio(str(payload["input"]), audio_format)
        if payload.get("stream"):
            return self._send_frames(
                [audio[i : i + 4096] for i in range(0, len(audio), 4096)], "application/octet-stream"
            )
        return self._send(200, audio, "application/octet-stream")


ROUTES = {
    ("GET", "/v1/models"): "list",
    ("GET", "/v1/cluster/auth"): "auth_status",
    ("GET", "/status"): "status",
    ("POST", "/v1/chat/completions"): "chat",
    ("POST", "/v1/completions"): "completions",
    ("POST", "/v1/embeddings"): "embeddings",
    ("POST", "/v1/rerank"): "rerank",
    ("POST", "/v1/audio/transcriptions"): "transcriptions",
    ("POST", "/v1/audio/speech"): "speech",
}
