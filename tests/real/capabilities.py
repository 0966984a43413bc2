"""Which Xinference release tests/real runs against, and what the server itself does in that release.

run.py --release R sets XINFERENCE_REAL_RELEASE (unset: 4.1.0, `make test-real`). Tests that check a
server-side behaviour that not every release has consult `has()`; the plugin's
own behaviour (what Dify sees) is asserted the same way on every release.
"""

from __future__ import annotations

import os

RELEASE = os.environ.get("XINFERENCE_REAL_RELEASE") or "4.1.0"

# feature -> the first release that has it (citations: README "Tested Xinference releases")
SINCE = {
    # 1.x: HTTP 400 for stream + tools unless Qwen on vLLM/SGLang or GLM4 off vLLM (the plugin falls back)
    "server_streams_with_tools": "2.2.0",
    # an unknown model on an inference route: 400 before 2.7, 404 after
    "unknown_model_404": "2.7.0",
    # 1.x: a last message from the assistant is a 400 "Invalid input. Please specify the prompt."
    "any_last_role": "2.7.0",
    # stream choices carry "logprobs"
    "chunk_logprobs": "3.0.0",
    # advanced auth on by default, admin made by POST /v1/admin/setup (run.py's auth phase, test_auth.py)
    "auth_by_default": "3.0.0",
    # the description names model_engine
    "model_engine_in_description": "3.1.0",
    # embedding replica ids <uid>-rep0 (before: <uid>-0)
    "rep_replica_ids": "3.2.1",
    # encoding_format "base64" honoured (up to 3.2.1 floats come back)
    "base64_embeddings": "3.3.0",
    # embedding / rerank descriptions list model_ability
    "embedding_abilities": "3.4.0",
}


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split(".")[:3])


def has(feature: str) -> bool:
    return _version(RELEASE) >= _version(SINCE[feature])
