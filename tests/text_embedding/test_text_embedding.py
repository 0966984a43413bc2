"""The text-embedding model through its public SDK entry points, against recorded Xinference answers."""

from __future__ import annotations

import json

import pytest
import requests
import responses
from dify_plugin.entities.model import EmbeddingInputType, ModelPropertyKey
from dify_plugin.errors.model import (
    CredentialsValidateFailedError,
    InvokeAuthorizationError,
    InvokeBadRequestError,
    InvokeConnectionError,
    InvokeRateLimitError,
    InvokeServerUnavailableError,
)

from models._xinference.model_info import DESCRIPTIONS
from models._xinference.tokens import estimate_tokens
from models.text_embedding.text_embedding import XinferenceTextEmbeddingModel
from tests.helpers import API_KEY, SERVER, fixture_json, http_fixture, raw_credentials

UID = "test-embed"
DESCRIBE_URL = f"{SERVER}/v1/models/{UID}"
EMBED_URL = f"{SERVER}/v1/embeddings"
REAL_VECTOR = fixture_json("embed_05_embeddings_single.json")["data"][0]["embedding"]  # 384 floats
QUERY, DOCUMENT = EmbeddingInputType.QUERY, EmbeddingInputType.DOCUMENT


def creds(**overrides):
    return raw_credentials(model_uid=UID, **overrides)


def model() -> XinferenceTextEmbeddingModel:
    return XinferenceTextEmbeddingModel(model_schemas=[])


def add_description(mock, **override):
    body = fixture_json("embed_07_get_model.json")  # dimensions 384, max_tokens 256
    body.update(override)
    mock.get(DESCRIBE_URL, json=body)


def numbered_server(mock, *, reverse=True, usage=True):
    """An embeddings endpoint answering text "t<n>" with the real vector whose first value is n,
    listing the items in reverse order (the index field says where each belongs)."""

    def answer(request):
        texts = json.loads(request.body)["input"]
        items = []
        for index, text in enumerate(texts):
            number = float(text[1:]) if text[1:].isdigit() else -1.0
            vector = [number, *REAL_VECTOR[1:]]
            items.append({"index": index, "object": "embedding", "embedding": vector})
        body = {"object": "list", "model": UID, "data": items[::-1] if reverse else items}
        if usage:
            body["usage"] = {"prompt_tokens": 3 * len(texts), "total_tokens": 3 * len(texts)}
        return 200, {}, json.dumps(body)

    mock.add_callback(responses.POST, EMBED_URL, callback=answer, content_type="application/json")


def sent_bodies(mock):
    return [json.loads(call.request.body) for call in mock.calls if call.request.method == "POST"]


# ---- 1. batching ---------------------------------------------------------------------------


def test_real_batch_answer_is_returned_in_order_with_server_usage():
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.post(EMBED_URL, json=fixture_json("embed_04_embeddings_batch.json"))
        result = model().invoke("emb", creds(), ["a", "b", "c", "d"], None, DOCUMENT)
        assert len(mock.calls) == 2  # one description read, one embedding request
        assert sent_bodies(mock) == [{"model": UID, "input": ["a", "b", "c", "d"]}]
    recorded = fixture_json("embed_04_embeddings_batch.json")["data"]
    assert result.embeddings == [item["embedding"] for item in recorded]
    assert {len(v) for v in result.embeddings} == {384}
    assert result.usage.tokens == result.usage.total_tokens == 45
    assert result.model == "emb"


def test_100_texts_at_max_chunks_32_take_4_requests_and_keep_order():
    texts = [f"t{i}" for i in range(100)]
    with responses.RequestsMock() as mock:
        add_description(mock)
        numbered_server(mock, reverse=True)
        result = model().invoke("emb", creds(max_chunks="32"), texts, None, DOCUMENT)
        bodies = sent_bodies(mock)
    assert [len(b["input"]) for b in bodies] == [32, 32, 32, 4]
    assert [b["input"][0] for b in bodies] == ["t0", "t32", "t64", "t96"]
    assert [v[0] for v in result.embeddings] == [float(i) for i in range(100)]
    assert result.usage.tokens == 300  # summed over the four answers


def test_1000_texts_at_default_max_chunks_take_at_most_32_requests():
    texts = [f"t{i}" for i in range(1000)]
    with responses.RequestsMock() as mock:
        add_description(mock)
        numbered_server(mock)
        model().validate_credentials("emb", creds())  # what Dify does when the model is added
        mock.calls.reset()
        result = model().invoke("emb", creds(), texts, None, DOCUMENT)
        assert len(mock.calls) == 32  # steady state: the description comes from the cache
        assert all(call.request.method == "POST" for call in mock.calls)
    assert [v[0] for v in result.embeddings] == [float(i) for i in range(1000)]


def test_cold_cache_costs_one_description_read_more():
    with responses.RequestsMock() as mock:
        add_description(mock)
        numbered_server(mock)
        model().invoke("emb", creds(), [f"t{i}" for i in range(1000)], None, DOCUMENT)
        assert [c.request.method for c in mock.calls].count("GET") == 1
        assert len(mock.calls) == 33


def test_empty_text_list_sends_nothing():
    with responses.RequestsMock():  # any request would fail: nothing is registered
        result = model().invoke("emb", creds(), [], None, DOCUMENT)
    assert result.embeddings == []
    assert result.usage.tokens == 0


@pytest.mark.parametrize("value", ["0", "2049", "many", "-3"])
def test_max_chunks_outside_1_to_2048_is_refused(value):
    with responses.RequestsMock(), pytest.raises(CredentialsValidateFailedError, match="max_chunks"):
        model().validate_credentials("emb", creds(max_chunks=value))
    with responses.RequestsMock(), pytest.raises(InvokeBadRequestError, match="max_chunks"):
        model().invoke("emb", creds(max_chunks=value), ["x"], None, DOCUMENT)


# ---- schema: MAX_CHUNKS and CONTEXT_SIZE -----------------------------------------------------


def schema_properties(credentials):
    return model().get_customizable_model_schema("emb", credentials).model_properties


def test_schema_reads_context_from_description_and_max_chunks_from_credentials():
    with responses.RequestsMock() as mock:
        add_description(mock)
        props = schema_properties(creds(max_chunks="64"))
        assert len(mock.calls) == 1
        again = schema_properties(creds(max_chunks="64"))
        assert len(mock.calls) == 1  # cached
    assert props[ModelPropertyKey.CONTEXT_SIZE] == 256
    assert props[ModelPropertyKey.MAX_CHUNKS] == 64
    assert again == props


def test_schema_answers_with_defaults_when_the_server_is_down():
    with responses.RequestsMock() as mock:
        mock.get(DESCRIBE_URL, body=requests.exceptions.ConnectionError("refused"))
        props = schema_properties(creds())
        assert len(mock.calls) == 1  # no retries for a schema request
    assert props[ModelPropertyKey.CONTEXT_SIZE] == 512
    assert props[ModelPropertyKey.MAX_CHUNKS] == 32


def test_schema_answers_even_for_unparseable_credentials():
    props = schema_properties({"server_url": "not a url", "model_uid": UID})
    assert props[ModelPropertyKey.MAX_CHUNKS] == 32


def test_schema_lowers_max_chunks_so_one_answer_fits_the_daemon_line_limit():
    with responses.RequestsMock() as mock:
        add_description(mock, dimensions=4096)
        props = schema_properties(creds(max_chunks="2048"))
    # 2048 x 4096 floats would be ~200 MB on one stdout line; the daemon kills the plugin at 5 MiB
    assert props[ModelPropertyKey.MAX_CHUNKS] == 40
    assert 40 * 4096 * 25 < 5 * 1024 * 1024


# ---- 2. context size and truncation ---------------------------------------------------------

LONG = " ".join(["word"] * 400)  # ~400 tokens, over the model's 256


def test_long_text_asks_the_server_to_truncate_only_in_its_batch():
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.post(EMBED_URL, json=fixture_json("embed_05_embeddings_single.json"))
        embed = model()
        embed.invoke("emb", creds(max_chunks="1"), ["short"], None, DOCUMENT)
        embed.invoke("emb", creds(max_chunks="1"), [LONG], None, DOCUMENT)
        bodies = sent_bodies(mock)
    assert "truncate_prompt_tokens" not in bodies[0]
    assert bodies[1]["truncate_prompt_tokens"] == -1  # < 0: the server cuts to the model's max_tokens


def test_long_text_with_truncation_off_is_refused_naming_the_limit_without_a_request():
    with responses.RequestsMock() as mock:
        add_description(mock)
        with pytest.raises(InvokeBadRequestError, match=r"Text 2 .* at most 256 tokens") as info:
            model().invoke("emb", creds(truncate_long_texts=False), ["ok", LONG], None, DOCUMENT)
        assert [c.request.method for c in mock.calls] == ["GET"]
    assert "turned off" in str(info.value)


def test_server_that_cannot_truncate_gives_a_clear_error_naming_the_limit():
    with responses.RequestsMock() as mock:
        add_description(mock)
        detail = "[address=x] encode() got an unexpected keyword argument 'truncate_prompt_tokens'"
        mock.post(EMBED_URL, status=500, json={"detail": detail})
        with pytest.raises(InvokeBadRequestError, match="at most 256 tokens") as info:
            model().invoke("emb", creds(), [LONG], None, DOCUMENT)
    assert "unexpected keyword argument" in str(info.value)


def test_unknown_limit_sends_text_as_is():
    with responses.RequestsMock() as mock:
        add_description(mock, max_tokens=None)
        mock.post(EMBED_URL, json=fixture_json("embed_05_embeddings_single.json"))
        model().invoke("emb", creds(), [LONG * 10], None, DOCUMENT)
        assert "truncate_prompt_tokens" not in sent_bodies(mock)[0]


# ---- 3. input_type ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("input_type", "text", "task"),
    [(QUERY, "query: hello", "retrieval.query"), (DOCUMENT, "passage: hello", "retrieval.passage")],
)
def test_input_type_selects_prefix_and_task(input_type, text, task):
    settings = creds(
        query_prefix="query: ",
        document_prefix="passage: ",
        query_task="retrieval.query",
        document_task="retrieval.passage",
    )
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.post(EMBED_URL, json=fixture_json("embed_05_embeddings_single.json"))
        model().invoke("emb", settings, ["hello"], None, input_type)
        assert sent_bodies(mock) == [{"model": UID, "input": [text], "task": task}]


def test_only_the_configured_side_is_changed():
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.post(EMBED_URL, json=fixture_json("embed_05_embeddings_single.json"))
        model().invoke("emb", creds(query_prefix="q: "), ["hello"], None, DOCUMENT)
        assert sent_bodies(mock) == [{"model": UID, "input": ["hello"]}]


# ---- 4. usage and get_num_tokens ------------------------------------------------------------


def test_usage_falls_back_to_an_offline_estimate_when_the_server_reports_none():
    with responses.RequestsMock() as mock:
        add_description(mock)
        numbered_server(mock, usage=False)
        result = model().invoke("emb", creds(), ["t1", "t2"], None, DOCUMENT)
    assert result.usage.tokens == estimate_tokens("t1") + estimate_tokens("t2")
    assert result.usage.total_price == 0


def test_get_num_tokens_is_offline():
    texts = ["Hello world", "你好世界", ""]
    with responses.RequestsMock():  # nothing registered: any HTTP would raise
        counts = model().get_num_tokens("emb", creds(), texts)
    assert counts == [estimate_tokens(t) for t in texts]
    assert counts[0] == 2
    assert counts[1] == 4


# ---- 5. vector checks -----------------------------------------------------------------------


def one_item_answer(embedding):
    return {"object": "list", "data": [{"index": 0, "embedding": embedding}], "usage": {"prompt_tokens": 1}}


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
        model().validate_credentials("emb", creds())
        assert [c.request.method for c in mock.calls] == ["GET", "POST"]
        assert len(sent_bodies(mock)[0]["input"]) == 1


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
        DESCRIPTIONS.clear()
        add_description(mock)
        mock.post(EMBED_URL, status=status, body=body, content_type=headers.get("content-type"))
        with pytest.raises(InvokeAuthorizationError) as info:
            model().invoke("emb", creds(api_key=API_KEY), [LONG], None, DOCUMENT)
    assert "without the server's description" in caplog.text  # the logging path really ran
    assert API_KEY not in caplog.text
    assert API_KEY not in str(info.value)
    assert API_KEY not in repr(info.value.__context__) + repr(info.value.__cause__)
