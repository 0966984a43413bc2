"""Multimodal embedding (Dify >= 1.11 knowledge bases with images) through the SDK entry points,
against answers recorded from a real Xinference 4.1.0 serving a tiny CLIP (fixtures mm_01..mm_05)."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
import responses
from dify_plugin.entities.model import EmbeddingInputType
from dify_plugin.entities.model.text_embedding import MultiModalContent
from dify_plugin.errors.model import InvokeBadRequestError, InvokeServerUnavailableError

from models._xinference.process_state import reset_process_state
from models.text_embedding.text_embedding import XinferenceTextEmbeddingModel
from tests.helpers import SERVER, fixture_json, raw_credentials

UID = "test-clip-embed"
DESCRIBE_URL = f"{SERVER}/v1/models/{UID}"
EMBED_URL = f"{SERVER}/v1/embeddings"
IMAGES = Path(__file__).parents[1] / "assets" / "images"
CLIP = fixture_json("mm_01_clip_get_model.json")  # model_ability embed + embed_vision, 16 dims
TEXTS = fixture_json("mm_02_clip_embed_texts.json")
PICTURES = fixture_json("mm_03_clip_embed_images.json")


def b64(name: str) -> str:
    return base64.b64encode((IMAGES / name).read_bytes()).decode()


PNG, JPEG = b64("red-square.png"), b64("blue-square.jpg")


def text(value: str) -> MultiModalContent:
    return MultiModalContent(content=value, content_type="text")


def image(value: str) -> MultiModalContent:
    return MultiModalContent(content=value, content_type="image")


def creds(**overrides):
    return raw_credentials(model_uid=UID, **overrides)


def embed(documents, credentials=None, input_type=EmbeddingInputType.DOCUMENT):
    model = XinferenceTextEmbeddingModel(model_schemas=[])
    return model.invoke_multimodal("clip", credentials or creds(), documents, None, input_type)


def schema_features(description, **overrides):
    reset_process_state()  # each call stands for another server
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        if description is not None:
            mock.get(DESCRIBE_URL, json=description)
        schema = XinferenceTextEmbeddingModel(model_schemas=[]).get_model_schema("clip", creds(**overrides))
    return [str(f.value) for f in schema.features or []]


def bodies(mock):
    return [json.loads(call.request.body) for call in mock.calls if call.request.method == "POST"]


def vectors_of(answer):
    return [item["embedding"] for item in sorted(answer["data"], key=lambda item: item["index"])]


# ---- schema: the `vision` feature ------------------------------------------------------------


def test_recorded_clip_description_gives_vision():
    assert CLIP["model_ability"] == ["embed", "embed_vision"]
    assert schema_features(CLIP) == ["vision"]


def test_plain_embedding_model_never_gets_vision():
    assert schema_features(fixture_json("embed_07_get_model.json")) == []


@pytest.mark.parametrize(
    ("abilities", "expected"),
    [
        (["embed", "vision"], ["vision"]),  # 3.4 spelling
        (["embed", "embed_vision", "embed_video", "embed_audio"], ["vision"]),  # 4.x
        (["embed", "rerank_vision"], []),  # another type's ability does not count
        (["embed"], []),
        (None, []),  # ≤ 3.3 reports no abilities at all
    ],
)
def test_abilities_by_release(abilities, expected):
    description = {**CLIP, "model_ability": abilities}
    assert schema_features(description) == expected


def test_override_supported_and_unsupported():
    plain = fixture_json("embed_07_get_model.json")
    assert schema_features(plain, embedding_vision="supported") == ["vision"]
    assert schema_features(CLIP, embedding_vision="unsupported") == []
    assert schema_features(None, embedding_vision="supported") == ["vision"]  # server down: the admin decides
    assert schema_features(CLIP, vision="unsupported") == ["vision"]  # the LLM override is another field


# ---- invoke: order, modality split, batch size -----------------------------------------------


def test_text_png_text_jpeg_split_by_modality_and_put_back_in_order():
    with responses.RequestsMock() as mock:
        mock.get(DESCRIBE_URL, json=CLIP)
        mock.post(EMBED_URL, json=TEXTS)
        mock.post(EMBED_URL, json=PICTURES)
        result = embed([text("a red square"), image(PNG), text("a blue square"), image(JPEG)])
        sent = bodies(mock)
    assert sent == [
        {"model": UID, "input": [{"text": "a red square"}, {"text": "a blue square"}]},
        {
            "model": UID,
            "input": [{"image": f"data:image/png;base64,{PNG}"}, {"image": f"data:image/jpeg;base64,{JPEG}"}],
        },
    ]
    t0, t1 = vectors_of(TEXTS)
    i0, i1 = vectors_of(PICTURES)
    assert result.embeddings == [t0, i0, t1, i1]
    assert {len(v) for v in result.embeddings} == {16}
    assert i0 != i1  # the recorded server gave different images different vectors
    assert result.usage.tokens == TEXTS["usage"]["total_tokens"] + PICTURES["usage"]["total_tokens"]


def test_batch_size_is_respected_per_modality():
    def one_vector(request):
        items = json.loads(request.body)["input"]
        data = [
            {"index": i, "object": "embedding", "embedding": [float(len(str(x)))] * 16}
            for i, x in enumerate(items)
        ]
        return 200, {}, json.dumps({"data": data, "usage": {"prompt_tokens": 1, "total_tokens": 1}})

    docs = [text("a"), image(PNG), text("bb"), image(JPEG), text("ccc")]
    with responses.RequestsMock() as mock:
        mock.get(DESCRIBE_URL, json=CLIP)
        mock.add_callback(responses.POST, EMBED_URL, callback=one_vector, content_type="application/json")
        result = embed(docs, creds(max_chunks="2"))
        sent = bodies(mock)
    assert [[next(iter(item)) for item in body["input"]] for body in sent] == [
        ["text", "text"],
        ["text"],
        ["image", "image"],
    ]
    expected = [len(str({"text": "a"})), len(str({"image": f"data:image/png;base64,{PNG}"}))]
    assert [v[0] for v in result.embeddings[:2]] == [float(n) for n in expected]
    assert result.usage.tokens == 3


def test_negative_usage_is_clamped_to_zero():
    answer = {**PICTURES, "usage": {"prompt_tokens": -1, "total_tokens": -1}}  # Qwen3-VL-Embedding
    with responses.RequestsMock() as mock:
        mock.get(DESCRIBE_URL, json=CLIP)
        mock.post(EMBED_URL, json=answer)
        result = embed([image(PNG), image(JPEG)])
    assert result.usage.tokens == result.usage.total_tokens == 0


@pytest.mark.parametrize(
    ("input_type", "prefix", "task"),
    [
        (EmbeddingInputType.QUERY, "q: ", "retrieval.query"),
        (EmbeddingInputType.DOCUMENT, "d: ", "retrieval.passage"),
    ],
)
def test_the_input_types_prefix_and_task_for_text_items_only(input_type, prefix, task):
    settings = creds(query_prefix="q: ", document_prefix="d: ", query_task="retrieval.query",
                     document_task="retrieval.passage")  # fmt: skip
    with responses.RequestsMock() as mock:
        mock.get(DESCRIBE_URL, json=CLIP)
        mock.post(EMBED_URL, json={**TEXTS, "data": TEXTS["data"][:1]})
        mock.post(EMBED_URL, json={**PICTURES, "data": PICTURES["data"][:1]})
        embed([text("red"), image(PNG)], settings, input_type)
        sent = bodies(mock)
    assert sent[0] == {"model": UID, "input": [{"text": prefix + "red"}], "task": task}
    assert sent[1]["input"] == [{"image": f"data:image/png;base64,{PNG}"}]


def test_no_documents_no_request():
    with responses.RequestsMock():
        result = embed([])
    assert result.embeddings == []


# ---- bad input and bad answers ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("%%% not base64 %%%", "Item 2 (an image) is not base64-encoded data"),
        (base64.b64encode(b"hello world, plain text").decode(), "Item 2 (an image) is not a PNG, JPEG, GIF"),
    ],
)
def test_bad_image_is_refused_before_any_request(content, needle):
    with responses.RequestsMock() as mock:
        mock.get(DESCRIBE_URL, json=CLIP)
        with pytest.raises(InvokeBadRequestError, match=re.escape(needle)):
            embed([text("fine"), image(content)])
        assert bodies(mock) == []


def test_text_and_image_vectors_of_different_sizes_are_refused():
    short = {**PICTURES, "data": [{**item, "embedding": item["embedding"][:8]} for item in PICTURES["data"]]}
    with responses.RequestsMock() as mock:
        mock.get(DESCRIBE_URL, json={**CLIP, "dimensions": None})
        mock.post(EMBED_URL, json=TEXTS)
        mock.post(EMBED_URL, json=short)
        with pytest.raises(InvokeServerUnavailableError, match="has 8 dimensions, expected 16"):
            embed([text("a red square"), text("a blue square"), image(PNG), image(JPEG)])


def test_an_answer_too_big_for_the_daemon_is_refused_up_front():
    big = {**CLIP, "dimensions": 4096}  # 64 × 4096 floats ≈ 6.5 MB of JSON > the 5 MiB line limit
    with responses.RequestsMock() as mock:
        mock.get(DESCRIBE_URL, json=big)
        with pytest.raises(InvokeBadRequestError, match=r"send at most 40 items per call"):
            embed([text(str(n)) for n in range(64)])
        assert bodies(mock) == []


def test_recorded_server_refusals_show_why_the_plugin_splits_and_prefixes():
    """What 4.1.0 does with a mixed batch or raw base64 (so the plugin never sends either)."""
    mixed = (
        Path(__file__).parents[1] / "fixtures" / "xinference-4.1.0" / "mm_04_clip_embed_mixed_batch.txt"
    ).read_bytes()
    raw = (
        Path(__file__).parents[1] / "fixtures" / "xinference-4.1.0" / "mm_05_clip_embed_raw_base64.txt"
    ).read_bytes()
    assert mixed.startswith(b"HTTP/1.1 500") and b"modalit" in mixed
    assert raw.startswith(b"HTTP/1.1 500")
