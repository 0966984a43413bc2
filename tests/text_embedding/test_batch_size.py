"""The admin's "Texts per request" is what the server gets, down to one text per request; only vectors too
long for the daemon's line limit lower it (tests/text_embedding/test_text_embedding.py)."""

from __future__ import annotations

import pytest
import responses

from tests.text_embedding.embedding_support import (
    DOCUMENT,
    add_description,
    creds,
    model,
    numbered_server,
    sent_bodies,
)


@pytest.mark.parametrize(("size", "inputs"), [("1", [["t0"], ["t1"], ["t2"]]), ("2", [["t0", "t1"], ["t2"]])])
def test_texts_per_request_splits_the_call(size, inputs):
    with responses.RequestsMock() as mock:
        add_description(mock)  # 384 dimensions: far below the line limit
        numbered_server(mock)
        result = model().invoke("emb", creds(max_chunks=size), ["t0", "t1", "t2"], None, DOCUMENT)
        assert [body["input"] for body in sent_bodies(mock)] == inputs
    assert [vector[0] for vector in result.embeddings] == [0.0, 1.0, 2.0]
