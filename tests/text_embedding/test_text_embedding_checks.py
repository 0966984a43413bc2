"""The text-embedding model's checks, through its public SDK entry points against recorded Xinference answers:
bad or misnumbered vectors are errors, not data; validate_credentials and the wrong-model-type messages; HTTP
error statuses mapped to typed Dify errors; the API key never reaching a log line or an error."""

from __future__ import annotations

import json

import pytest
import requests
import responses
from dify_plugin.errors.model import (
    CredentialsValidateFailedError,
    InvokeAuthorizationError,
    InvokeBadRequestError,
    InvokeConnectionError,
    InvokeRateLimitError,
    InvokeServerUnavailableError,
)

from models._xinference.process_state import reset_process_state
from tests.helpers import API_KEY, SERVER, fixture_json, http_fixture
from tests.text_embedding.embedding_support import (
    DESCRIBE_URL,
    DOCUMENT,
    EMBED_URL,
    LONG,
    REAL_VECTOR,
    UID,
    add_description,
    creds,
    model,
    one_item_answer,
    sent_bodies,
)

# ---- 5. vector checks -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("embedding", "message"),
    [
        (REAL_VECTOR[:383], "383 dimensions, expected 384"),
        ({"hello": 0.3, "world": 0.1}, "sparse"),
        (["0.1", *REAL_VECTOR[1:]], "not a finite number"),
        ([None, *REAL_VECTOR[1:]], "not a finite number"),
        ([True, *REAL_VECTOR[1:]], "not a finite number"),
        ("not base64!", "not base64"),
        ([], "not a non-empty list"),
    ],
)
def test_bad_vectors_are_errors_not_data(embedding, message):
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.post(EMBED_URL, json=one_item_answer(embedding))
        with pytest.raises(InvokeServerUnavailableError, match=message):
            model().invoke("emb", creds(), ["x"], None, DOCUMENT)


@pytest.mark.parametrize(
    ("embedding", "problem"),
    [
        # a vector sent as the text of a JSON array: its digits alone would decode as base64
        ("[1.0, 2.0, 3.0, 4.0]", "embedding 0 is a string that is not base64"),
        ("AACAPwAA", "embedding 0 is base64 of 6 bytes, not of float32 values"),
        ("", "embedding 0 is base64 of 0 bytes, not of float32 values"),
    ],
)
def test_a_string_that_is_not_base64_of_float32_values_is_named_exactly(embedding, problem):
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.post(EMBED_URL, json=one_item_answer(embedding))
        with pytest.raises(InvokeServerUnavailableError) as caught:
            model().invoke("emb", creds(), ["x"], None, DOCUMENT)
    assert str(caught.value) == f"Xinference sent an unusable answer to embeddings on {UID!r}: {problem}"


def test_nan_in_a_vector_is_an_error():
    body = json.dumps(one_item_answer(REAL_VECTOR)).replace(str(REAL_VECTOR[5]), "NaN", 1)
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.post(EMBED_URL, body=body, content_type="application/json")
        with pytest.raises(InvokeServerUnavailableError, match="'nan', not a finite number"):
            model().invoke("emb", creds(), ["x"], None, DOCUMENT)


def test_vectors_of_different_sizes_across_batches_are_an_error_without_declared_dimensions():
    answers = iter([REAL_VECTOR, REAL_VECTOR[:128]])
    with responses.RequestsMock() as mock:
        add_description(mock, dimensions=None)
        mock.add_callback(
            responses.POST,
            EMBED_URL,
            callback=lambda r: (200, {}, json.dumps(one_item_answer(next(answers)))),
            content_type="application/json",
        )
        with pytest.raises(InvokeServerUnavailableError, match="128 dimensions, expected 384"):
            model().invoke("emb", creds(max_chunks="1"), ["a", "b"], None, DOCUMENT)


def test_recorded_base64_answer_decodes_to_the_recorded_float_answer():
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.post(EMBED_URL, json=fixture_json("embed_06_embeddings_base64.json"))
        result = model().invoke("emb", creds(), ["hello"], None, DOCUMENT)
    assert result.embeddings == [REAL_VECTOR]


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([{"index": 0, "embedding": REAL_VECTOR}], "2 texts were sent but 1"),
        ([{"index": 0, "embedding": REAL_VECTOR}, {"index": 0, "embedding": REAL_VECTOR}], "two embeddings"),
        ([{"index": 0, "embedding": REAL_VECTOR}, {"index": 2, "embedding": REAL_VECTOR}], "index 2"),
    ],
)
def test_missing_or_misnumbered_items_are_errors(items, message):
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.post(EMBED_URL, json={"object": "list", "data": items})
        with pytest.raises(InvokeServerUnavailableError, match=message):
            model().invoke("emb", creds(), ["a", "b"], None, DOCUMENT)


# ---- 6. validate_credentials --------------------------------------------------------------


def test_validate_reads_the_description_and_embeds_one_tiny_text():
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.post(EMBED_URL, json=fixture_json("embed_05_embeddings_single.json"))
        settings = creds(query_prefix="q: ", document_prefix="d: ", query_task="rq", document_task="rd")
        model().validate_credentials("emb", settings)
        assert [c.request.method for c in mock.calls] == ["GET", "POST"]
        # the check embeds as a query: a model whose query side is misconfigured fails here, not in chat
        assert sent_bodies(mock) == [{"model": UID, "input": ["q: Dify credential check"], "task": "rq"}]


@pytest.mark.parametrize(
    ("fixture", "dify_type"),
    [("llm_04_get_model.json", "an LLM"), ("rerank_07_get_model.json", "a Rerank model")],
)
def test_validate_names_the_dify_type_for_a_non_embedding_uid(fixture, dify_type):
    with responses.RequestsMock() as mock:
        mock.get(DESCRIBE_URL, json=fixture_json(fixture))
        mock.get(f"{SERVER}/v1/models", json=fixture_json("models_list_all.json"))
        with pytest.raises(CredentialsValidateFailedError, match=f"add it in Dify as {dify_type} instead"):
            model().validate_credentials("emb", creds())
        # the description, then the running models for the message; no embedding attempted
        assert [c.request.method for c in mock.calls] == ["GET", "GET"]


def test_validate_fails_when_the_tiny_embedding_fails():
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.post(EMBED_URL, json=one_item_answer(REAL_VECTOR[:10]))
        with pytest.raises(CredentialsValidateFailedError, match="10 dimensions, expected 384"):
            model().validate_credentials("emb", creds())


def test_invoke_on_a_non_embedding_uid_says_what_to_add_it_as():
    with responses.RequestsMock() as mock:
        mock.get(DESCRIBE_URL, json=fixture_json("llm_04_get_model.json"))
        expected = r"is an LLM \(abilities: .*\), not a Text Embedding model: add it in Dify as an LLM"
        with pytest.raises(InvokeBadRequestError, match=expected):
            model().invoke("emb", creds(), ["x"], None, DOCUMENT)


# ---- error statuses -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "error"),
    [
        ("auth_09_embeddings_no_key.txt", InvokeAuthorizationError),
        ("err_03_embed_unknown_model.txt", InvokeBadRequestError),
        ("err_10_embed_missing_input.txt", InvokeServerUnavailableError),
        ("err_13_embed_with_llm_model.txt", InvokeServerUnavailableError),
    ],
)
def test_recorded_error_statuses_map_to_dify_errors(fixture, error):
    status, headers, body = http_fixture(fixture)
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.post(EMBED_URL, status=status, body=body, content_type=headers.get("content-type"))
        with pytest.raises(error) as info:
            model().invoke("emb", creds(api_key=API_KEY), ["x"], None, DOCUMENT)
    assert f"HTTP {status}" in str(info.value)
    assert API_KEY not in str(info.value)


@pytest.mark.parametrize(
    ("status", "error"),
    [(403, InvokeAuthorizationError), (429, InvokeRateLimitError), (503, InvokeServerUnavailableError)],
)
def test_other_error_statuses(status, error):
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.post(EMBED_URL, status=status, json={"detail": "nope"})
        with pytest.raises(error):
            model().invoke("emb", creds(api_key=API_KEY), ["x"], None, DOCUMENT)


def test_unreachable_server_is_a_connection_error():
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.post(EMBED_URL, body=requests.exceptions.ConnectionError("refused"))
        with pytest.raises(InvokeConnectionError):
            model().invoke("emb", creds(), ["x"], None, DOCUMENT)


def test_the_api_key_never_reaches_logs_or_errors(caplog):
    caplog.set_level("DEBUG")
    status, headers, body = http_fixture("auth_09_embeddings_no_key.txt")
    with responses.RequestsMock() as mock:
        mock.get(DESCRIBE_URL, body=requests.exceptions.ConnectionError("refused"))
        model().get_customizable_model_schema("emb", creds(api_key=API_KEY))  # logs the fallback
        reset_process_state()
        add_description(mock)
        mock.post(EMBED_URL, status=status, body=body, content_type=headers.get("content-type"))
        with pytest.raises(InvokeAuthorizationError) as info:
            model().invoke("emb", creds(api_key=API_KEY), [LONG], None, DOCUMENT)
    assert "without the server's description" in caplog.text  # the logging path really ran
    assert API_KEY not in caplog.text
    assert API_KEY not in str(info.value)
    assert API_KEY not in repr(info.value.__context__) + repr(info.value.__cause__)
