"""What the text-embedding tests share: the model under test, its credentials, the recorded description
and vector, and fake embeddings endpoints built from them."""

from __future__ import annotations

import json

import responses
from dify_plugin.entities.model import EmbeddingInputType

from models.text_embedding.text_embedding import XinferenceTextEmbeddingModel
from tests.helpers import SERVER, fixture_json, raw_credentials

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


LONG = " ".join(["word"] * 400)  # ~400 tokens, over the model's 256


def one_item_answer(embedding):
    return {"object": "list", "data": [{"index": 0, "embedding": embedding}], "usage": {"prompt_tokens": 1}}
