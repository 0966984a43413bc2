"""What a Dify admin reads when an embedding server answers with something unusable: the whole message,
naming the call, the item and what is wrong with it, so a broken server or proxy can be found from it."""

from __future__ import annotations

import pytest
import responses
from dify_plugin.errors.model import InvokeServerUnavailableError

from tests.text_embedding.embedding_support import (
    DOCUMENT,
    EMBED_URL,
    REAL_VECTOR,
    UID,
    add_description,
    creds,
    model,
)

PREFIX = f"Xinference sent an unusable answer to embeddings on {UID!r}: "
OTHER = [0.5, *REAL_VECTOR[1:]]


def items(*embeddings) -> list[dict]:
    return [{"index": i, "embedding": e} for i, e in enumerate(embeddings)]


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ({"object": "list"}, "no 'data' list in the answer"),
        ([REAL_VECTOR, OTHER], "no 'data' list in the answer"),
        ({"data": items(REAL_VECTOR)}, "2 texts were sent but 1 embeddings came back"),
        ({"data": [{"index": 0, "embedding": REAL_VECTOR}, "x"]}, "item 1 of 'data' is not an object"),
        (
            {"data": [{"index": 0, "embedding": REAL_VECTOR}, {"index": 2, "embedding": OTHER}]},
            "embedding index 2 is not in 0..1",
        ),
        (
            {"data": [{"index": 0, "embedding": REAL_VECTOR}, {"index": True, "embedding": OTHER}]},
            "embedding index True is not in 0..1",
        ),
        (
            {"data": [{"index": 1, "embedding": REAL_VECTOR}, {"index": 1, "embedding": OTHER}]},
            "two embeddings came back for index 1",
        ),
        (
            {"data": items(REAL_VECTOR, OTHER[:383])},
            "the embedding of text 2 has 383 dimensions, expected 384 (the model's declared size, or that of "
            "the other vectors); vectors of different sizes cannot share one knowledge base",
        ),
        (
            {"data": items(REAL_VECTOR, {"hello": 0.3})},
            "embedding 1 is sparse (a {token: weight} object); Dify stores dense vectors only: do not enable "
            "sparse output (return_sparse) for this model",
        ),
        ({"data": items(REAL_VECTOR, [])}, "embedding 1 is not a non-empty list of numbers"),
        (
            {"data": items(REAL_VECTOR, [0.5, 10**400, *REAL_VECTOR[2:]])},
            "embedding 1 contains '10000000000000000000', not a finite number",
        ),
        ({"data": items(REAL_VECTOR, "AACAPwAA")}, "embedding 1 is base64 of 6 bytes, not of float32 values"),
    ],
    ids=[
        "no data",
        "a bare list",
        "too few",
        "item not an object",
        "index out of range",
        "index a boolean",
        "index twice",
        "other size",
        "sparse",
        "empty vector",
        "huge integer",
        "base64 of odd length",
    ],
)
def test_an_unusable_answer_is_named_whole(answer, problem):
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.post(EMBED_URL, json=answer)
        with pytest.raises(InvokeServerUnavailableError) as caught:
            model().invoke("emb", creds(), ["t0", "t1"], None, DOCUMENT)
    assert str(caught.value) == PREFIX + problem


def test_an_answer_that_is_not_json_names_the_embedding_call():
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.post(EMBED_URL, body="upstream hiccup", content_type="application/json")
        with pytest.raises(InvokeServerUnavailableError) as caught:
            model().invoke("emb", creds(), ["t0"], None, DOCUMENT)
    assert str(caught.value) == PREFIX + "the body is not JSON: 'upstream hiccup'"


def test_items_without_an_index_are_taken_in_the_order_they_came():
    answer = {"data": [{"embedding": OTHER}, {"embedding": REAL_VECTOR}]}
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.post(EMBED_URL, json=answer)
        result = model().invoke("emb", creds(), ["t0", "t1"], None, DOCUMENT)
    assert result.embeddings == [OTHER, REAL_VECTOR]
