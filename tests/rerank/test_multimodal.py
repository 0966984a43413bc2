"""Multimodal rerank (an image query in a Dify >= 1.11 knowledge base) through the SDK entry points,
against answers recorded from a real Xinference 4.1.0 (Qwen3-VL-Reranker-2B path, fixtures mm_06/07)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
import responses
from dify_plugin.entities.model.text_embedding import MultiModalContent
from dify_plugin.errors.model import InvokeBadRequestError

from models._xinference.process_state import reset_process_state
from models.rerank.rerank import XinferenceRerankModel
from tests.helpers import SERVER, fixture_json, raw_credentials

UID = "test-vl-rerank"
DESCRIBE_URL = f"{SERVER}/v1/models/{UID}"
RERANK_URL = f"{SERVER}/v1/rerank"
IMAGES = Path(__file__).parents[1] / "assets" / "images"
VL = fixture_json("mm_06_vl_rerank_get_model.json")  # Qwen3-VL-Reranker-2B, rerank_vision
IMAGE_QUERY = fixture_json("mm_07_vl_rerank_image_query.json")  # query = the PNG; docs text, JPEG, PNG, GIF


def b64(name: str) -> str:
    return base64.b64encode((IMAGES / name).read_bytes()).decode()


PNG, JPEG, GIF = b64("red-square.png"), b64("blue-square.jpg"), b64("green-square.gif")
DOCS = [
    MultiModalContent(content="a red square", content_type="text"),
    MultiModalContent(content=JPEG, content_type="image"),
    MultiModalContent(content=PNG, content_type="image"),
    MultiModalContent(content=GIF, content_type="image"),
]
QUERY = MultiModalContent(content=PNG, content_type="image")


def creds(**overrides):
    return raw_credentials(model_uid=UID, **overrides)


def rerank(docs=DOCS, *, credentials=None, threshold=None, top_n=None, query=QUERY):
    model = XinferenceRerankModel(model_schemas=[])
    return model.invoke_multimodal("vl", credentials or creds(), query, docs, threshold, top_n)


def features(description, **overrides):
    reset_process_state()  # each call stands for another server
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        if description is not None:
            mock.get(DESCRIBE_URL, json=description)
        schema = XinferenceRerankModel(model_schemas=[]).get_model_schema("vl", creds(**overrides))
    return [str(f.value) for f in schema.features or []]


def bodies(mock):
    return [json.loads(call.request.body) for call in mock.calls if call.request.method == "POST"]


def test_schema_vision_from_the_recorded_description_only():
    assert "rerank_vision" in VL["model_ability"]
    assert features(VL) == ["vision"]
    assert features(fixture_json("rerank_07_get_model.json")) == []  # a text cross-encoder
    assert features({**VL, "model_ability": ["rerank", "vision"]}) == ["vision"]  # 3.4
    assert features({**VL, "model_ability": ["rerank", "embed_vision"]}) == []


def test_schema_override():
    text_only = fixture_json("rerank_07_get_model.json")
    assert features(text_only, rerank_vision="supported") == ["vision"]
    assert features(VL, rerank_vision="unsupported") == []
    assert features(None, rerank_vision="supported") == ["vision"]  # no server request needed


def test_jina_reranker_m0_is_not_declared_multimodal_on_auto():
    m0 = {**VL, "model_name": "jina-reranker-m0", "model_ability": ["rerank", "rerank_vision"]}
    assert features(m0) == []


def test_image_query_recorded_answer_mapped_by_index_to_dify_contents():
    with responses.RequestsMock() as mock:
        mock.get(DESCRIBE_URL, json=VL)
        mock.post(RERANK_URL, json=IMAGE_QUERY)
        result = rerank()
        sent = bodies(mock)
    assert sent == [
        {
            "model": UID,
            "query": {"image": f"data:image/png;base64,{PNG}"},
            "documents": [
                {"text": "a red square"},
                {"image": f"data:image/jpeg;base64,{JPEG}"},
                {"image": f"data:image/png;base64,{PNG}"},
                {"image": f"data:image/gif;base64,{GIF}"},
            ],
            "return_documents": False,
        }
    ]
    recorded = [(r["index"], r["relevance_score"]) for r in IMAGE_QUERY["results"]]
    assert [(d.index, d.score) for d in result.docs] == sorted(recorded, key=lambda p: (-p[1], p[0]))
    assert result.docs[0].index == 2 and result.docs[0].score == pytest.approx(1.0, abs=1e-4)
    assert [d.text for d in result.docs] == [DOCS[d.index].content for d in result.docs]


def test_top_n_and_threshold_as_for_text():
    with responses.RequestsMock() as mock:
        mock.get(DESCRIBE_URL, json=VL)
        mock.post(RERANK_URL, json=IMAGE_QUERY)
        top = rerank(top_n=1)
        assert bodies(mock)[0]["top_n"] == 1
    assert [d.index for d in top.docs] == [2]
    second = sorted(r["relevance_score"] for r in IMAGE_QUERY["results"])[-2]
    with responses.RequestsMock() as mock:  # the description is cached by now
        mock.post(RERANK_URL, json=IMAGE_QUERY)
        kept = rerank(threshold=second)
    assert len(kept.docs) == 2 and all(d.score >= second for d in kept.docs)


def test_documents_are_batched_and_merged():
    def answer(request):
        docs = json.loads(request.body)["documents"]
        results = [{"index": i, "relevance_score": 0.1 * (len(docs) - i)} for i in range(len(docs))]
        return 200, {}, json.dumps({"results": results})

    with responses.RequestsMock() as mock:
        mock.get(DESCRIBE_URL, json=VL)
        mock.add_callback(responses.POST, RERANK_URL, callback=answer, content_type="application/json")
        result = rerank(credentials=creds(rerank_batch_size="3"))
        sent = bodies(mock)
    assert [len(b["documents"]) for b in sent] == [3, 1]
    assert all(b["query"] == {"image": f"data:image/png;base64,{PNG}"} for b in sent)
    assert sorted(d.index for d in result.docs) == [0, 1, 2, 3]


def test_bad_image_names_the_document_and_sends_nothing():
    bad = [*DOCS[:2], MultiModalContent(content="bm90IGFuIGltYWdl", content_type="image")]
    with responses.RequestsMock() as mock:
        mock.get(DESCRIBE_URL, json=VL)
        with pytest.raises(InvokeBadRequestError, match=r"Document 3 \(an image\) is not a PNG"):
            rerank(bad)
        assert bodies(mock) == []


def test_bad_image_query_is_named():
    query = MultiModalContent(content="!!", content_type="image")
    with responses.RequestsMock() as mock:
        mock.get(DESCRIBE_URL, json=VL)
        with pytest.raises(InvokeBadRequestError, match=r"The query \(an image\) is not base64"):
            rerank(query=query)


def test_jina_reranker_m0_gets_a_clear_refusal_for_images():
    m0 = {**VL, "model_name": "jina-reranker-m0"}
    with responses.RequestsMock() as mock:
        mock.get(DESCRIBE_URL, json=m0)
        with pytest.raises(InvokeBadRequestError) as caught:
            rerank()
        assert bodies(mock) == []
    assert str(caught.value) == (
        f"Model {UID!r} (jina-reranker-m0) takes images in a form this plugin does not send yet; use it for "
        "text only (set its Images option to Text only), or rank images with a Qwen3-VL-Reranker model."
    )


def test_jina_reranker_m0_still_ranks_text_sent_the_multimodal_way():
    m0 = {**VL, "model_name": "jina-reranker-m0"}
    texts = [MultiModalContent(content=t, content_type="text") for t in ("a red square", "a blue square")]
    answer = {"results": [{"index": 1, "relevance_score": 0.75}, {"index": 0, "relevance_score": 0.25}]}
    with responses.RequestsMock() as mock:
        mock.get(DESCRIBE_URL, json=m0)
        mock.post(RERANK_URL, json=answer)
        result = rerank(texts, query=MultiModalContent(content="blue", content_type="text"))
    assert [(d.index, d.text, d.score) for d in result.docs] == [
        (1, "a blue square", 0.75),
        (0, "a red square", 0.25),
    ]


def test_no_documents_no_request():
    with responses.RequestsMock():
        assert rerank([]).docs == []
