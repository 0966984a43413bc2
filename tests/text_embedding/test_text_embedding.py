"""The text-embedding model through its public SDK entry points, against recorded Xinference answers: batching
and max_chunks, the schema's MAX_CHUNKS and CONTEXT_SIZE, context size and truncation, input_type prefixes and
tasks, usage and get_num_tokens."""

from __future__ import annotations

import logging
import time

import pytest
import requests
import responses
from dify_plugin.entities.model import ModelPropertyKey
from dify_plugin.errors.model import (
    CredentialsValidateFailedError,
    InvokeBadRequestError,
)

from models._xinference.tokens import estimate_tokens
from tests.helpers import fixture_json
from tests.text_embedding.embedding_support import (
    DESCRIBE_URL,
    DOCUMENT,
    EMBED_URL,
    LONG,
    QUERY,
    REAL_VECTOR,
    UID,
    add_description,
    creds,
    model,
    numbered_server,
    one_item_answer,
    sent_bodies,
)

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


def test_schema_lowers_max_chunks_so_one_answer_fits_the_daemon_line_limit(caplog):
    caplog.set_level(logging.INFO)
    with responses.RequestsMock() as mock:
        add_description(mock, dimensions=4096)
        props = schema_properties(creds(max_chunks="2048"))
    # 2048 x 4096 floats would be ~200 MB on one stdout line; the daemon kills the plugin at 5 MiB
    assert props[ModelPropertyKey.MAX_CHUNKS] == 40
    assert 40 * 4096 * 25 < 5 * 1024 * 1024
    assert "max_chunks lowered from 2048 to 40 to fit the daemon's line limit" in caplog.messages


def test_schema_keeps_at_least_one_text_per_request_however_long_the_vectors():
    with responses.RequestsMock() as mock:
        add_description(mock, dimensions=200_000)  # one answer alone is ~5 MB of JSON
        props = schema_properties(creds(max_chunks="2048"))
    assert props[ModelPropertyKey.MAX_CHUNKS] == 1


# ---- 2. context size and truncation ---------------------------------------------------------


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
        with pytest.raises(InvokeBadRequestError) as info:
            model().invoke("emb", creds(), ["short", LONG], None, DOCUMENT)
    assert str(info.value) == (
        f"Text 2 of this request is about {estimate_tokens(LONG)} tokens, but embedding model {UID!r} "
        "accepts at most 256 tokens per text; the server refused it "
        f"(HTTP 500: {detail}). Lower the maximum chunk length of the knowledge base below 256 tokens."
    )


def test_an_empty_refusal_of_a_long_text_still_names_the_status():
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.post(EMBED_URL, status=413, body="")
        with pytest.raises(
            InvokeBadRequestError, match=r"the server refused it \(HTTP 413: \(empty body\)\)"
        ):
            model().invoke("emb", creds(), [LONG], None, DOCUMENT)


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


def test_usage_is_free_in_usd_with_the_latency_of_this_call():
    with responses.RequestsMock() as mock:
        add_description(mock)
        numbered_server(mock)
        before = time.perf_counter()
        result = model().invoke("emb", creds(), ["t1", "t2"], None, DOCUMENT)
        elapsed = time.perf_counter() - before
    usage = result.usage
    assert (usage.unit_price, usage.price_unit, usage.total_price, usage.currency) == (0, 0, 0, "USD")
    assert 0 < usage.latency <= elapsed


@pytest.mark.parametrize(
    ("usage", "tokens"),
    [
        ({"prompt_tokens": 5, "total_tokens": 9}, 5),
        ({"prompt_tokens": 1, "total_tokens": 9}, 1),
        ({"total_tokens": 7}, 7),
        ({"prompt_tokens": 0, "total_tokens": 7}, 7),
        ({"prompt_tokens": 0, "total_tokens": 0}, None),
        ({"prompt_tokens": True}, None),
    ],
    ids=[
        "prompt tokens first",
        "one token",
        "total tokens alone",
        "prompt 0 is no count",
        "0 is no count",
        "not a count",
    ],
)
def test_usage_is_the_servers_prompt_count_else_its_total(usage, tokens):
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.post(EMBED_URL, json={**one_item_answer(REAL_VECTOR), "usage": usage})
        result = model().invoke("emb", creds(), ["t1"], None, DOCUMENT)
    assert result.usage.tokens == (tokens if tokens is not None else estimate_tokens("t1"))


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
