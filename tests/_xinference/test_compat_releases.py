"""Every tested Xinference release's recorded answers give Dify the same result as 4.1.0's.

Replays tests/fixtures/xinference-{1.17.1,2.12.0,3.2.1} (recorded by `make fixtures-compat` from real
servers with the test models) next to the 4.1.0 recordings: descriptions with and without abilities or
model_engine, floats where base64 was asked, `-0` vs `-rep0` replica ids, stream frames without
`logprobs` or with a late usage frame, unknown models as 400 or 404.
"""

from __future__ import annotations

import json

import pytest
import responses
from dify_plugin.entities.model import ModelPropertyKey
from dify_plugin.entities.model.message import UserPromptMessage
from dify_plugin.entities.model.schema import ModelFeature
from dify_plugin.errors.model import InvokeBadRequestError

from models.llm.llm import XinferenceLargeLanguageModel
from models.rerank.rerank import XinferenceRerankModel
from models.text_embedding.text_embedding import XinferenceTextEmbeddingModel
from tests.helpers import (
    SERVER,
    fixture_bytes,
    fixture_json,
    parse_http_dump,
    raw_credentials,
    release_fixture_bytes,
)

OLD_RELEASES = ["1.17.1", "2.12.0", "3.2.1"]
ALL_RELEASES = [*OLD_RELEASES, "4.1.0"]
# the 4.1.0 recordings have other names (tools/real_xinference/record_fixtures.py)
NAMES_410 = {
    "embed_get_model.json": "embed_07_get_model.json",
    "rerank_get_model.json": "rerank_07_get_model.json",
    "llm_get_model.json": "tools_05_get_model.json",
    "embed_base64.json": "embed_04_embeddings_batch.json",
    "rerank.json": "rerank_05_rerank_nodocs.json",
    "chat_stream_raw_sse.txt": "tools_02_chat_plain_stream_raw_sse.txt",
}
HELLO = "Hello! I am a tiny test model."


def recorded(release: str, name: str) -> bytes:
    if release == "4.1.0":
        return fixture_bytes(NAMES_410[name])
    return release_fixture_bytes(release, name)


def _http_dump(raw: bytes):
    return parse_http_dump(raw)


def recorded_json(release: str, name: str):
    return json.loads(recorded(release, name))


def _one_vector_answer(release: str) -> dict:
    data = recorded_json(release, "embed_base64.json")
    first = dict(data["data"][0], index=0)
    return {**data, "data": [first]}


def _one_doc_rerank(release: str) -> dict:
    data = recorded_json(release, "rerank.json")
    return {**data, "results": [dict(r, index=0) for r in data["results"][:1]]}


# ---- descriptions: abilities absent (≤3.3), unprefixed (3.4), prefixed (4.x) ------------------------
@pytest.mark.parametrize("release", ALL_RELEASES)
def test_embedding_validates_with_each_releases_description(release):
    description = recorded_json(release, "embed_get_model.json")
    answer = _one_vector_answer(release)
    assert isinstance(answer["data"][0]["embedding"], list)  # floats: base64 was never asked for
    with responses.RequestsMock() as mock:
        mock.get(f"{SERVER}/v1/models/test-embed", json=description)
        mock.post(f"{SERVER}/v1/embeddings", json=answer)
        XinferenceTextEmbeddingModel(model_schemas=[]).validate_credentials(
            "e", raw_credentials(model_uid="test-embed")
        )


@pytest.mark.parametrize(
    "abilities", [None, ["embed", "vision"], ["embed", "embed_vision"]], ids=["absent", "3.4", "4.x"]
)
def test_embedding_and_rerank_validate_whatever_the_abilities_say(abilities):
    for kind, uid, answer in (
        ("embed", "test-embed", _one_vector_answer("2.12.0")),
        ("rerank", "test-rerank", _one_doc_rerank("2.12.0")),
    ):
        description = recorded_json("2.12.0", f"{kind}_get_model.json")
        assert "model_ability" not in description  # as 1.x-3.3 send it
        if abilities is not None:
            description["model_ability"] = [a.replace("embed", kind) for a in abilities]
        route = "/v1/embeddings" if kind == "embed" else "/v1/rerank"
        model = XinferenceTextEmbeddingModel if kind == "embed" else XinferenceRerankModel
        with responses.RequestsMock() as mock:
            mock.get(f"{SERVER}/v1/models/{uid}", json=description)
            mock.post(SERVER + route, json=answer)
            model(model_schemas=[]).validate_credentials("m", raw_credentials(model_uid=uid))


@pytest.mark.parametrize("release", ALL_RELEASES)
def test_rerank_validates_and_ranks_with_each_releases_answers(release):
    description = recorded_json(release, "rerank_get_model.json")
    answer = recorded_json(release, "rerank.json")
    docs = [f"doc {i}" for i in range(len(answer["results"]))]
    with responses.RequestsMock() as mock:
        mock.get(f"{SERVER}/v1/models/test-rerank", json=description)
        mock.post(f"{SERVER}/v1/rerank", json=answer)
        result = XinferenceRerankModel(model_schemas=[]).invoke(
            "r", raw_credentials(model_uid="test-rerank"), "q", docs, None, None
        )
    assert sorted(d.index for d in result.docs) == list(range(len(docs)))
    assert [d.score for d in result.docs] == sorted((d.score for d in result.docs), reverse=True)


@pytest.mark.parametrize("release", ALL_RELEASES)
def test_llm_schema_from_each_releases_description(release):
    description = recorded_json(release, "llm_get_model.json")
    with responses.RequestsMock() as mock:
        mock.get(f"{SERVER}/v1/models/test-llm", json=description)
        llm = XinferenceLargeLanguageModel(model_schemas=[])
        llm.validate_credentials("l", raw_credentials())
        schema = llm.get_customizable_model_schema("l", raw_credentials())
    assert schema.model_properties[ModelPropertyKey.MODE] == "chat"
    assert schema.model_properties[ModelPropertyKey.CONTEXT_SIZE] == 2048
    assert {ModelFeature.TOOL_CALL, ModelFeature.STREAM_TOOL_CALL} <= set(schema.features or [])


# ---- streams -------------------------------------------------------------------------------------------
def _stream(release: str, name: str, max_tokens: int = 64):
    description = recorded_json(release, "llm_get_model.json")
    with responses.RequestsMock() as mock:
        mock.get(f"{SERVER}/v1/models/test-llm", json=description)
        mock.post(
            f"{SERVER}/v1/chat/completions", body=recorded(release, name), content_type="text/event-stream"
        )
        chunks = XinferenceLargeLanguageModel(model_schemas=[]).invoke(
            "l",
            raw_credentials(),
            [UserPromptMessage(content="Hello, who are you?")],
            {"max_tokens": max_tokens},
            None,
            None,
            True,
            "u",
        )
        return list(chunks)


def _finishing_usage(raw: bytes) -> dict:
    """The usage on the first frame with a finish_reason, as the server recorded it."""
    for line in raw.decode().splitlines():
        if line.startswith("data: {"):
            event = json.loads(line[6:])
            if any(c.get("finish_reason") for c in event.get("choices") or []):
                return event["usage"]
    raise AssertionError("no finishing frame")


@pytest.mark.parametrize("release", ALL_RELEASES)
def test_streamed_chat_same_text_and_the_finishing_frames_usage(release):
    chunks = _stream(release, "chat_stream_raw_sse.txt")
    assert "".join(c.delta.message.content for c in chunks) == HELLO
    assert [c.delta.finish_reason for c in chunks if c.delta.finish_reason] == ["stop"]
    usage = _finishing_usage(recorded(release, "chat_stream_raw_sse.txt"))
    assert chunks[-1].delta.usage.completion_tokens == usage["completion_tokens"]
    assert chunks[-1].delta.usage.prompt_tokens == usage["prompt_tokens"]


@pytest.mark.parametrize("release", OLD_RELEASES)
def test_max_tokens_stream_counts_the_answer_not_the_late_usage_frame(release):
    raw = recorded(release, "chat_stream_max_tokens_4_raw_sse.txt")
    chunks = _stream(release, "chat_stream_max_tokens_4_raw_sse.txt", max_tokens=4)
    assert [c.delta.finish_reason for c in chunks if c.delta.finish_reason] == ["length"]
    assert chunks[-1].delta.usage.completion_tokens == 4 == _finishing_usage(raw)["completion_tokens"]


def test_2_12_0_really_sends_a_late_frame_with_other_counts():
    raw = release_fixture_bytes("2.12.0", "chat_stream_max_tokens_4_raw_sse.txt").decode()
    usages = [json.loads(line[6:]).get("usage") for line in raw.splitlines() if line.startswith("data: {")]
    counts = [u["completion_tokens"] for u in usages if u]
    assert counts[0] == 4 and counts[-1] != 4  # what the plugin must not report


@pytest.mark.parametrize("release", OLD_RELEASES)
def test_old_stream_frames_shape(release):
    raw = recorded(release, "chat_stream_raw_sse.txt").decode()
    has_logprobs = '"logprobs"' in raw
    assert has_logprobs == (release >= "3")  # 1.x/2.x chunk choices carry no logprobs key


# ---- unknown models: 400 before 2.7, 404 after ----------------------------------------------------------
@pytest.mark.parametrize("release", OLD_RELEASES)
def test_unknown_model_at_invoke_is_a_bad_request_naming_the_uid(release):
    status, headers, body = _http_dump(recorded(release, "err_embed_unknown_model.txt"))
    assert status == (400 if release.startswith("1.") else 404)
    with responses.RequestsMock() as mock:
        mock.get(f"{SERVER}/v1/models/no-such-model", json=recorded_json(release, "embed_get_model.json"))
        mock.post(f"{SERVER}/v1/embeddings", status=status, body=body, content_type=headers["content-type"])
        with pytest.raises(InvokeBadRequestError, match="no-such-model"):
            XinferenceTextEmbeddingModel(model_schemas=[]).invoke(
                "e", raw_credentials(model_uid="no-such-model"), ["hi"]
            )


@pytest.mark.parametrize("release", OLD_RELEASES)
def test_replica_ids(release):
    replica = recorded_json(release, "embed_base64.json")["model_replica"]
    assert replica == ("test-embed-rep0" if release.startswith("3.") else "test-embed-0")


def test_the_4_1_0_names_exist():
    for name in NAMES_410.values():
        assert fixture_json(name) if name.endswith(".json") else fixture_bytes(name)


@pytest.mark.parametrize("release", OLD_RELEASES)
def test_a_model_gone_at_invoke_drops_the_cached_description(release):
    from models._xinference.model_info import DESCRIPTIONS

    status, headers, body = _http_dump(recorded(release, "err_embed_unknown_model.txt"))
    creds = raw_credentials(model_uid="no-such-model")
    with responses.RequestsMock() as mock:
        mock.get(f"{SERVER}/v1/models/no-such-model", json=recorded_json(release, "embed_get_model.json"))
        mock.post(f"{SERVER}/v1/embeddings", status=status, body=body, content_type=headers["content-type"])
        with pytest.raises(InvokeBadRequestError):
            XinferenceTextEmbeddingModel(model_schemas=[]).invoke("e", creds, ["hi"])
    assert DESCRIPTIONS.peek((SERVER, "no-such-model", "")) is None  # 400 (1.x) and 404 alike
