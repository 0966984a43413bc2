"""What the rerank tests share: the model under test called as Dify calls it, its credentials, the recorded
answer and description, and readers for what was sent and what came back."""

from __future__ import annotations

import json

from models.rerank.rerank import XinferenceRerankModel
from tests.helpers import SERVER, fixture_json, raw_credentials

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
