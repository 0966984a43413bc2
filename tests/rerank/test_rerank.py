"""The rerank model through its public SDK entry points, against recorded Xinference answers."""

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
from tests.helpers import API_KEY, SERVER, fixture_json, http_fixture, raw_credentials

UID = "test-rerank"
DESCRIBE_URL = f"{SERVER}/v1/models/{UID}"
RERANK_URL = f"{SERVER}/v1/rerank"
# Our texts differ from what the recorded server echoed: the answer must carry OUR input.
DOCS = ["ours 0: Paris", "ours 1: Berlin", "ours 2: Madrid"]
NODOCS = fixture_json("rerank_05_rerank_nodocs.json")  # indices 1, 0, 2 with scores .5084, .5076, .5051
SCORES = {r["index"]: r["relevance_score"] for r in NODOCS["results"]}


def creds(**overrides):
    return raw_credentials(model_uid=UID, **overrides)


def rerank(credentials=None, docs=DOCS, *, threshold=None, top_n=None):
    return XinferenceRerankModel(model_schemas=[]).invoke(
        "rr", credentials or creds(), "capital of Germany", docs, threshold, top_n
    )


def add_description(mock, fixture="rerank_07_get_model.json"):
    mock.get(DESCRIBE_URL, json=fixture_json(fixture))


def sent_bodies(mock):
    return [json.loads(call.request.body) for call in mock.calls if call.request.method == "POST"]


def triples(result):
    return [(d.index, d.text, d.score) for d in result.docs]


# ---- 1. sorting, index mapping, our texts, top_n, threshold ---------------------------------


def test_recorded_answer_sorted_with_original_indices_and_our_texts():
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.post(RERANK_URL, json=NODOCS)
        result = rerank()
        bodies = sent_bodies(mock)
    assert bodies == [
        {"model": UID, "query": "capital of Germany", "documents": DOCS, "return_documents": False}
    ]
    assert triples(result) == [(1, DOCS[1], SCORES[1]), (0, DOCS[0], SCORES[0]), (2, DOCS[2], SCORES[2])]
    assert result.model == "rr"


def test_server_echo_of_documents_is_not_trusted():
    answer = fixture_json("rerank_04_rerank_topn_docs.json")  # echoes "Berlin is the capital of Germany."
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.post(RERANK_URL, json=answer)
        result = rerank(top_n=2)
        assert sent_bodies(mock)[0]["top_n"] == 2
    assert [d.text for d in result.docs] == [DOCS[1], DOCS[0]]


@pytest.mark.parametrize(("top_n", "threshold"), [(0, 0.0), (None, None), (-1, 0)])
def test_zero_or_missing_top_n_and_threshold_mean_all(top_n, threshold):
    # the daemon sends Go zero values (0, 0) when Dify sets neither
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.post(RERANK_URL, json=NODOCS)
        result = rerank(top_n=top_n, threshold=threshold)
        assert "top_n" not in sent_bodies(mock)[0]
    assert [d.index for d in result.docs] == [1, 0, 2]


def test_threshold_keeps_scores_at_or_above_it():
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.post(RERANK_URL, json=NODOCS)
        result = rerank(threshold=SCORES[0])
    assert [d.index for d in result.docs] == [1, 0]


def test_threshold_and_top_n_together():
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.post(RERANK_URL, json=NODOCS)
        result = rerank(threshold=0.506, top_n=1)
    assert [d.index for d in result.docs] == [1]


def test_unsorted_answer_is_sorted_and_ties_keep_input_order():
    answer = {"results": [{"index": 2, "relevance_score": 0.1}, {"index": 1, "relevance_score": 0.7},
                          {"index": 0, "relevance_score": 0.7}]}  # fmt: skip
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.post(RERANK_URL, json=answer)
        result = rerank()
    assert triples(result) == [(0, DOCS[0], 0.7), (1, DOCS[1], 0.7), (2, DOCS[2], 0.1)]


def test_string_scores_are_converted_to_floats():
    answer = {"results": [{"index": 0, "relevance_score": "0.25"}, {"index": 1, "relevance_score": "1e-3"}]}
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.post(RERANK_URL, json=answer)
        result = rerank(docs=DOCS[:2])
    assert [(d.index, d.score) for d in result.docs] == [(0, 0.25), (1, 0.001)]
    assert all(type(d.score) is float for d in result.docs)


@pytest.mark.parametrize(
    ("result", "message"),
    [
        ({"index": 0}, "without a relevance_score"),
        ({"index": 0, "relevance_score": None}, "without a relevance_score"),
        ({"index": 0, "relevance_score": "high"}, "not a number"),
        ({"index": 0, "relevance_score": True}, "not a number"),
        ({"index": 0, "relevance_score": "nan"}, "not a finite number"),
        ({"index": 3, "relevance_score": 0.5}, "index 3"),
        ({"relevance_score": 0.5}, "index None"),
    ],
)
def test_bad_results_are_errors_not_data(result, message):
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.post(RERANK_URL, json={"results": [result]})
        with pytest.raises(InvokeServerUnavailableError, match=message):
            rerank()


def test_a_document_scored_twice_is_an_error():
    answer = {"results": [{"index": 0, "relevance_score": 0.5}, {"index": 0, "relevance_score": 0.4}]}
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.post(RERANK_URL, json=answer)
        with pytest.raises(InvokeServerUnavailableError, match="scored twice"):
            rerank()


# ---- 2. empty document list -----------------------------------------------------------------


def test_empty_document_list_sends_nothing():
    with responses.RequestsMock():  # nothing registered: any request would fail
        result = rerank(docs=[], top_n=3)
    assert result.docs == []


# ---- 3. instruction ---------------------------------------------------------------------------


def test_instruction_is_passed_as_a_kwargs_json_string():
    instruction = "Given a legal question, retrieve the statute that answers it — 条文"
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.post(RERANK_URL, json=NODOCS)
        rerank(creds(rerank_instruction=instruction))
        kwargs = sent_bodies(mock)[0]["kwargs"]
    assert isinstance(kwargs, str)  # an object here makes Xinference answer 500
    assert json.loads(kwargs) == {"instruction": instruction}


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
        assert len(sent_bodies(mock)[0]["documents"]) == 1


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
        with pytest.raises(InvokeServerUnavailableError, match="HTTP 503"):
            rerank()
