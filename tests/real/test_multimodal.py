"""Images in knowledge bases (Dify >= 1.11) against a real Xinference 4.1.0, through the plugin process.

* embedding: a tiny random CLIP built at test time (tools/real_xinference/multimodal.py), registered as a
  custom embedding model. Random weights: the tests check shapes, order and that images differ.
* rerank: the built-in `Qwen3-VL-Reranker-2B` launched with `model_path` at a folder that holds our own
  scoring script (tools/real_xinference/vl_reranker/): this exercises Xinference's request handling
  (parsing, dispatch to the model script, response shaping) — not Qwen's model.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tests.real.support import UIDS, credentials, error_of, ok
from tools.console import payloads

pytestmark = pytest.mark.real

IMAGES = Path(__file__).parents[1] / "assets" / "images"


def _b64(name: str) -> str:
    return base64.b64encode((IMAGES / name).read_bytes()).decode()


PNG, JPEG, GIF = _b64("red-square.png"), _b64("blue-square.jpg"), _b64("green-square.gif")


def _embed(plugin, documents, **creds):
    data = payloads.embed_multimodal("my-clip", credentials(UIDS["clip"], **creds), documents)
    return ok(plugin, data)[-1]


def _close(a, b, tol=1e-4):
    return len(a) == len(b) and all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


def test_clip_validates_and_reports_vision(plugin):
    creds = credentials(UIDS["clip"])
    ok(plugin, payloads.validate("text-embedding", "my-clip", creds))
    schema = ok(plugin, payloads.schema("text-embedding", "my-clip", creds))[0]["model_schema"]
    assert schema["features"] == ["vision"]


def test_plain_embedding_model_has_no_vision(plugin):
    creds = credentials(UIDS["embed"])
    schema = ok(plugin, payloads.schema("text-embedding", "my-embed", creds))[0]["model_schema"]
    assert "vision" not in (schema.get("features") or [])


def test_mixed_batch_comes_back_in_input_order(plugin):
    """text / PNG / text / JPEG: the server refuses mixed batches, the plugin splits and reorders."""
    docs = [
        payloads.content("text", "a red square"),
        payloads.content("image", PNG, "file-1"),
        payloads.content("text", "a blue square"),
        payloads.content("image", JPEG, "file-2"),
    ]
    result = _embed(plugin, docs)
    vectors = result["embeddings"]
    assert len(vectors) == 4 and all(len(v) == 16 for v in vectors)
    singles = [_embed(plugin, [doc])["embeddings"][0] for doc in docs]
    for position, single in enumerate(singles):
        assert _close(vectors[position], single), f"vector {position} is not the embedding of item {position}"
    assert not _close(vectors[1], vectors[3], 1e-2)  # different images, different vectors
    assert result["usage"]["tokens"] > 0  # the server counts text tokens and image pixels


def test_batches_of_one_keep_order(plugin):
    docs = [payloads.content("image", GIF), payloads.content("text", "x"), payloads.content("image", PNG)]
    batched = _embed(plugin, docs)["embeddings"]
    one_by_one = _embed(plugin, docs, max_chunks="1")["embeddings"]
    assert all(_close(a, b) for a, b in zip(batched, one_by_one, strict=True))


def test_not_an_image_is_refused_before_the_server(plugin):
    docs = [
        payloads.content("text", "fine"),
        payloads.content("image", base64.b64encode(b"%PDF-1.7").decode()),
    ]
    data = payloads.embed_multimodal("my-clip", credentials(UIDS["clip"]), docs)
    error = error_of(plugin, data)
    assert error["error_type"] == "InvokeBadRequestError"
    assert "Item 2 (an image)" in error["message"]


def _rerank(plugin, query, docs, **kw):
    data = payloads.rerank_multimodal("my-vl-rerank", credentials(UIDS["vl_rerank"]), query, docs, **kw)
    return ok(plugin, data)[-1]["docs"]


def test_vl_reranker_validates_and_reports_vision(plugin):
    creds = credentials(UIDS["vl_rerank"])
    ok(plugin, payloads.validate("rerank", "my-vl-rerank", creds))
    schema = ok(plugin, payloads.schema("rerank", "my-vl-rerank", creds))[0]["model_schema"]
    assert schema["features"] == ["vision"]
    plain = ok(plugin, payloads.schema("rerank", "my-rerank", credentials(UIDS["rerank"])))[0]["model_schema"]
    assert "vision" not in (plain.get("features") or [])


def test_image_query_ranks_the_identical_image_first(plugin):
    docs = [
        payloads.content("text", "a red square"),
        payloads.content("image", JPEG),
        payloads.content("image", PNG),
        payloads.content("image", GIF),
    ]
    ranked = _rerank(plugin, payloads.content("image", PNG), docs)
    assert ranked[0]["index"] == 2
    assert ranked[0]["score"] == pytest.approx(1.0, abs=1e-4)
    assert ranked[0]["text"] == PNG  # Dify gets its own content back, matched by index
    assert sorted(d["index"] for d in ranked) == [0, 1, 2, 3]
    assert [d["score"] for d in ranked] == sorted((d["score"] for d in ranked), reverse=True)


def test_image_rerank_top_n_and_threshold(plugin):
    docs = [payloads.content("image", img) for img in (JPEG, PNG, GIF)]
    query = payloads.content("image", PNG)
    everything = _rerank(plugin, query, docs)
    assert [d["index"] for d in _rerank(plugin, query, docs, top_n=1)] == [1]
    cut = everything[1]["score"]
    kept = _rerank(plugin, query, docs, score_threshold=cut)
    assert [d["index"] for d in kept] == [d["index"] for d in everything[:2]]
