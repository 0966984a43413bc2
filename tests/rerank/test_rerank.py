"""The rerank model through its public SDK entry points, against recorded Xinference answers: sorting, index
mapping, our own texts, top_n and threshold, bad or duplicated results, an empty document list, the
instruction."""

from __future__ import annotations

import json

import pytest
import responses
from dify_plugin.errors.model import (
    InvokeServerUnavailableError,
)

from tests.helpers import fixture_json
from tests.rerank.rerank_support import (
    DOCS,
    NODOCS,
    RERANK_URL,
    SCORES,
    UID,
    add_description,
    creds,
    rerank,
    sent_bodies,
    triples,
)

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


def test_zero_threshold_keeps_negative_scores():
    # a reranker that answers raw logits scores weak matches below 0; Dify's "no threshold" (0) keeps them
    answer = {"results": [{"index": 0, "relevance_score": 2.5}, {"index": 1, "relevance_score": -3.25}]}
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.post(RERANK_URL, json=answer)
        result = rerank(docs=DOCS[:2], threshold=0.0)
    assert triples(result) == [(0, DOCS[0], 2.5), (1, DOCS[1], -3.25)]


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


UNUSABLE = f"Xinference sent an unusable answer to rerank on {UID!r}: "


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ({"results": [{"index": 0}]}, "document 0 came back without a relevance_score"),
        ({"results": [{"index": 0, "relevance_score": None}]},
         "document 0 came back without a relevance_score"),
        ({"results": [{"index": 1, "relevance_score": "high"}]},
         "document 1 has relevance_score 'high', not a number"),
        ({"results": [{"index": 0, "relevance_score": True}]},
         "document 0 has relevance_score True, not a number"),
        ({"results": [{"index": 2, "relevance_score": "nan"}]},
         "document 2 has relevance_score 'nan', not a finite number"),
        ({"results": [{"index": 3, "relevance_score": 0.5}]}, "result 0 has index 3, not one of 0..2"),
        ({"results": [{"relevance_score": 0.5}]}, "result 0 has index None, not one of 0..2"),
        ({"results": [{"index": 0, "relevance_score": 0.5}, "1"]}, "result 1 is not an object"),
        ({"scores": []}, "no 'results' list in the answer"),
        ([{"index": 0, "relevance_score": 0.5}], "no 'results' list in the answer"),
    ],
)  # fmt: skip
def test_bad_answers_are_errors_that_name_the_model_and_the_problem(answer, problem):
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.post(RERANK_URL, json=answer)
        with pytest.raises(InvokeServerUnavailableError) as caught:
            rerank()
    assert str(caught.value) == UNUSABLE + problem


def test_a_non_number_score_is_quoted_only_up_to_40_characters():
    page = "<html><body>Bad gateway: the upstream reranker went away</body></html>"
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.post(RERANK_URL, json={"results": [{"index": 0, "relevance_score": page}]})
        with pytest.raises(InvokeServerUnavailableError) as caught:
            rerank()
    assert str(caught.value) == UNUSABLE + f"document 0 has relevance_score {page[:40]!r}, not a number"


def test_a_document_scored_twice_is_an_error():
    answer = {"results": [{"index": 0, "relevance_score": 0.5}, {"index": 0, "relevance_score": 0.4}]}
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.post(RERANK_URL, json=answer)
        with pytest.raises(InvokeServerUnavailableError) as caught:
            rerank()
    assert str(caught.value) == UNUSABLE + "document 0 was scored twice"


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
