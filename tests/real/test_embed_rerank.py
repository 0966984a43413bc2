"""Text embedding (MiniLM, 384 dims) and rerank (MiniLM cross-encoder, random head), real server."""

from __future__ import annotations

import math

import pytest

from tests.real.support import UIDS, credentials, error_of, ok
from tools.console import payloads

pytestmark = pytest.mark.real

TEXTS = [
    "The cat sits on the mat.",
    "Paris is the capital of France.",
    "Xinference serves models on your own hardware.",
    "A completely different sentence about rain.",
    "The cat sits on the mat.",  # same as the first: must give the same vector
]


def _embed(plugin, texts, **creds):
    chunk = ok(plugin, payloads.embed("my-embed", credentials(UIDS["embed"], **creds), texts))[-1]
    return chunk["embeddings"], chunk["usage"]


def _close(a, b, tol=1e-5):
    return len(a) == len(b) and all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


@pytest.fixture(scope="module")
def singles(plugin):
    """Each text embedded on its own: the reference for order checks."""
    return [_embed(plugin, [t])[0][0] for t in TEXTS[:4]]


def test_embedding_batch_order_dimension_usage(plugin, singles):
    vectors, usage = _embed(plugin, TEXTS)
    assert len(vectors) == len(TEXTS)
    assert all(len(v) == 384 for v in vectors)
    assert all(abs(math.sqrt(sum(x * x for x in v)) - 1.0) < 1e-3 for v in vectors)  # normalised by the model
    for i, single in enumerate(singles):
        assert _close(vectors[i], single, 1e-4), f"vector {i} is not the embedding of text {i}"
    assert _close(vectors[0], vectors[4], 1e-4)
    assert not _close(vectors[0], vectors[1], 1e-2)
    assert usage["tokens"] > len(TEXTS)  # the server's prompt_tokens, not zero
    assert usage["total_tokens"] == usage["tokens"]


def test_embedding_split_into_several_requests_keeps_order_and_sums_usage(plugin, singles):
    whole, whole_usage = _embed(plugin, TEXTS)
    parts, parts_usage = _embed(plugin, TEXTS, max_chunks="2")  # 5 texts → 3 requests
    assert len(parts) == len(TEXTS)
    for a, b in zip(whole, parts, strict=True):
        assert _close(a, b, 1e-4)
    assert parts_usage["tokens"] == whole_usage["tokens"]


def test_embedding_query_input_type(plugin):
    data = payloads.embed("my-embed", credentials(UIDS["embed"]), ["where is the cat?"], input_type="query")
    (vector,) = ok(plugin, data)[-1]["embeddings"]
    assert len(vector) == 384


def test_embedding_num_tokens(plugin):
    chunk = ok(plugin, payloads.embed_num_tokens("my-embed", credentials(UIDS["embed"]), ["a b c", "one"]))[
        -1
    ]
    counts = chunk["num_tokens"]
    assert len(counts) == 2 and counts[0] > counts[1] > 0


# ---- rerank ----------------------------------------------------------------------------------------------
QUERY = "Where does the cat sit?"
DOCS = ["The cat sits on the mat.", "Paris is in France.", "Rain falls in autumn.", "Dogs bark at night."]


def _rerank(plugin, **kw):
    return ok(plugin, payloads.rerank("my-rerank", credentials(UIDS["rerank"]), QUERY, DOCS, **kw))[-1][
        "docs"
    ]


@pytest.fixture(scope="module")
def full(plugin):
    docs = _rerank(plugin)  # top_n / threshold 0 (what Go sends when unset) = all documents
    assert len(docs) == len(DOCS)
    return docs


def test_rerank_all_sorted_with_original_indices(full):
    assert sorted(d["index"] for d in full) == list(range(len(DOCS)))
    assert all(d["text"] == DOCS[d["index"]] for d in full)
    scores = [d["score"] for d in full]
    assert scores == sorted(scores, reverse=True)
    assert all(isinstance(s, float) and 0.0 <= s <= 1.0 for s in scores)
    assert len(set(scores)) > 1


def test_rerank_top_n(plugin, full):
    top = _rerank(plugin, top_n=2)
    assert [(d["index"], d["text"]) for d in top] == [(d["index"], d["text"]) for d in full[:2]]
    assert all(abs(a["score"] - b["score"]) < 1e-6 for a, b in zip(top, full, strict=False))


def test_rerank_score_threshold(plugin, full):
    # a threshold between the 2nd and 3rd score keeps exactly the first two (the random head scores ~0.5)
    threshold = (full[1]["score"] + full[2]["score"]) / 2
    if full[1]["score"] == full[2]["score"]:
        pytest.skip("2nd and 3rd scores are equal")
    kept = _rerank(plugin, score_threshold=threshold)
    assert [d["index"] for d in kept] == [d["index"] for d in full[:2]]
    assert all(d["score"] >= threshold for d in kept)


def test_rerank_threshold_and_top_n_together(plugin, full):
    threshold = full[-1]["score"] + 1e-9  # drops only the last one
    kept = _rerank(plugin, score_threshold=threshold, top_n=10)
    assert [d["index"] for d in kept] == [d["index"] for d in full[:-1]]


# ---- a uid of another type at invoke time ------------------------------------------------------------------
def test_invoke_with_a_uid_of_another_model_type(plugin):
    embed_on_llm = error_of(plugin, payloads.embed("m", credentials(UIDS["llm"]), ["hello"]))
    rerank_on_embed = error_of(plugin, payloads.rerank("m", credentials(UIDS["embed"]), "q", ["a", "b"]))
    for err in (embed_on_llm, rerank_on_embed):
        assert err["error_type"] in ("InvokeBadRequestError", "InvokeServerUnavailableError"), err
        assert "Traceback" not in err["message"]
