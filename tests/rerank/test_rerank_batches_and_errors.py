"""The rerank model through its public SDK entry points, against recorded Xinference answers: large document
lists scored in batches and merged, the batch-size credential, validate_credentials and the wrong-model-type
messages, the schema without a server, HTTP error statuses mapped to typed Dify errors."""

from __future__ import annotations

import json

import pytest
import responses
from dify_plugin.errors.model import (
    CredentialsValidateFailedError,
    InvokeAuthorizationError,
    InvokeBadRequestError,
    InvokeRateLimitError,
    InvokeServerUnavailableError,
)

from models.rerank.rerank import XinferenceRerankModel
from tests.helpers import API_KEY, SERVER, fixture_json, http_fixture
from tests.rerank.rerank_support import (
    RERANK_URL,
    UID,
    add_description,
    creds,
    rerank,
    sent_bodies,
)

# ---- 4. large document lists ----------------------------------------------------------------


def scoring_server(mock):
    """Scores document "d<n>" as n/1000 and answers in the server's order (best first)."""

    def answer(request):
        docs = json.loads(request.body)["documents"]
        results = [
            {"index": i, "relevance_score": int(d[1:]) / 1000, "document": None} for i, d in enumerate(docs)
        ]
        results.sort(key=lambda r: -r["relevance_score"])
        return 200, {}, json.dumps({"id": "x", "results": results, "meta": {}})

    mock.add_callback(responses.POST, RERANK_URL, callback=answer, content_type="application/json")


def test_600_documents_are_scored_in_batches_of_256_and_merged():
    docs = [f"d{(i * 7) % 600}" for i in range(600)]  # scores in a shuffled order
    with responses.RequestsMock() as mock:
        add_description(mock)
        scoring_server(mock)
        result = rerank(docs=docs, top_n=5)
        bodies = sent_bodies(mock)
    assert [len(b["documents"]) for b in bodies] == [256, 256, 88]
    assert all("top_n" not in b for b in bodies)  # a per-batch cut would lose global winners
    assert [d.text for d in result.docs] == ["d599", "d598", "d597", "d596", "d595"]
    assert all(docs[d.index] == d.text for d in result.docs)


def test_batch_size_comes_from_the_credentials():
    with responses.RequestsMock() as mock:
        add_description(mock)
        scoring_server(mock)
        result = rerank(creds(rerank_batch_size="2"), docs=["d1", "d3", "d2"])
        assert [len(b["documents"]) for b in sent_bodies(mock)] == [2, 1]
    assert [(d.index, d.text) for d in result.docs] == [(1, "d3"), (2, "d2"), (0, "d1")]


def test_documents_that_fill_exactly_one_batch_let_the_server_cut_to_top_n():
    with responses.RequestsMock() as mock:
        add_description(mock)
        scoring_server(mock)
        result = rerank(creds(rerank_batch_size="3"), docs=["d1", "d3", "d2"], top_n=2)
        assert [(len(b["documents"]), b.get("top_n")) for b in sent_bodies(mock)] == [(3, 2)]
    assert [d.text for d in result.docs] == ["d3", "d2"]


@pytest.mark.parametrize("value", ["0", "4097", "lots"])
def test_batch_size_outside_1_to_4096_is_refused(value):
    with responses.RequestsMock(), pytest.raises(CredentialsValidateFailedError, match="rerank_batch_size"):
        XinferenceRerankModel(model_schemas=[]).validate_credentials("rr", creds(rerank_batch_size=value))


# ---- 5. validate_credentials ----------------------------------------------------------------


def test_validate_reads_the_description_and_reranks_one_tiny_document():
    with responses.RequestsMock() as mock:
        add_description(mock)
        # the recording scored index 1 of 2; we send 1 doc
        recorded = fixture_json("authon_04_rerank.json")
        recorded["results"][0]["index"] = 0
        mock.post(RERANK_URL, json=recorded)
        XinferenceRerankModel(model_schemas=[]).validate_credentials("rr", creds())
        assert [c.request.method for c in mock.calls] == ["GET", "POST"]
        assert sent_bodies(mock) == [
            {"model": UID, "query": "Dify credential check", "documents": ["Dify credential check"],
             "return_documents": False}
        ]  # fmt: skip


@pytest.mark.parametrize(
    ("fixture", "dify_type"),
    [("embed_07_get_model.json", "a Text Embedding model"), ("llm_04_get_model.json", "an LLM")],
)
def test_validate_names_the_dify_type_for_a_non_rerank_uid(fixture, dify_type):
    with responses.RequestsMock() as mock:
        add_description(mock, fixture)
        mock.get(f"{SERVER}/v1/models", json=fixture_json("models_list_all.json"))
        with pytest.raises(CredentialsValidateFailedError, match=f"add it in Dify as {dify_type} instead"):
            XinferenceRerankModel(model_schemas=[]).validate_credentials("rr", creds())
        # the description, then the running models for the message; no rerank attempted
        assert [c.request.method for c in mock.calls] == ["GET", "GET"]


def test_invoke_on_an_embedding_uid_says_what_to_add_it_as():
    with responses.RequestsMock() as mock:
        add_description(mock, "embed_07_get_model.json")
        with pytest.raises(InvokeBadRequestError, match="add it in Dify as a Text Embedding model"):
            rerank()


def test_schema_needs_no_server():
    with responses.RequestsMock():
        schema = XinferenceRerankModel(model_schemas=[]).get_customizable_model_schema("rr", creds())
    assert schema.model == "rr"


# ---- error statuses -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "error"),
    [
        ("err_04_rerank_unknown_model.txt", InvokeBadRequestError),
        ("err_11_rerank_missing_documents.txt", InvokeServerUnavailableError),
        ("err_14_rerank_with_embed_model.txt", InvokeServerUnavailableError),
        ("auth_09_embeddings_no_key.txt", InvokeAuthorizationError),
        ("auth_11_valid_key_after_ip_ban.txt", InvokeRateLimitError),
    ],
)
def test_recorded_error_statuses_map_to_dify_errors(fixture, error):
    status, headers, body = http_fixture(fixture)
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.post(RERANK_URL, status=status, body=body, content_type=headers.get("content-type"))
        with pytest.raises(error) as info:
            rerank(creds(api_key=API_KEY))
    assert f"HTTP {status}" in str(info.value)
    assert API_KEY not in str(info.value)


def test_model_still_loading_is_server_unavailable():
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.post(RERANK_URL, status=503, json={"detail": "Model is loading"}, headers={"Retry-After": "30"})
        with pytest.raises(InvokeServerUnavailableError, match=r"HTTP 503 .* to rerank on 'test-rerank'"):
            rerank()
