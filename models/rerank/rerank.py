"""Xinference rerank models as a Dify rerank model."""

from __future__ import annotations

from collections.abc import Mapping
from typing import override

from dify_plugin.entities.model import AIModelEntity, ModelType
from dify_plugin.entities.model.rerank import RerankResult
from dify_plugin.interfaces.model.rerank_model import RerankModel

from models._xinference.base import XinferenceModelMixin, validation_errors
from models._xinference.client import XinferenceClient
from models._xinference.model_info import ModelDescription
from models._xinference.schemas import model_entity
from models.rerank import scores as rr

_CHECK_QUERY = "Dify credential check"


def _is_rerank(description: ModelDescription) -> bool:
    return description.model_type == "rerank"


class XinferenceRerankModel(XinferenceModelMixin, RerankModel):
    def validate_credentials(self, model: str, credentials: Mapping) -> None:
        client, description = self._validated_description(credentials, "Rerank", _is_rerank)
        with validation_errors():  # one tiny rerank proves the route, the key's scope and the answer shape
            self._scores(client, description.uid, _CHECK_QUERY, [_CHECK_QUERY], None)

    def get_customizable_model_schema(self, model: str, credentials: Mapping) -> AIModelEntity | None:
        return model_entity(model, ModelType.RERANK, {})

    @override
    def _invoke(
        self,
        model: str,
        credentials: dict,
        query: str,
        docs: list[str],
        score_threshold: float | None = None,
        top_n: int | None = None,
        user: str | None = None,
    ) -> RerankResult:
        if not docs:
            return RerankResult(model=model, docs=[])
        client = self._client(credentials)
        # cached: steady state costs one request per batch
        description = self._described(client, "Rerank", _is_rerank)
        wanted = rr.wanted_count(top_n)
        scores = self._scores(client, description.uid, query, docs, wanted)
        selected = rr.select(scores, docs, threshold=rr.wanted_threshold(score_threshold), top_n=wanted)
        return RerankResult(model=model, docs=selected)

    @staticmethod
    def _scores(
        client: XinferenceClient, uid: str, query: str, docs: list[str], top_n: int | None
    ) -> list[tuple[int, float]]:
        """Scores for all docs, in batches of the admin's size. Xinference's rerankers score each
        (query, document) pair on its own, so scores from separate requests compare directly."""
        size = client.credentials.rerank_batch_size
        instruction = client.credentials.rerank_instruction
        # the server may cut to top_n only when it sees every document at once
        server_top_n = top_n if len(docs) <= size else None
        scores: list[tuple[int, float]] = []
        for offset in range(0, len(docs), size):
            batch = docs[offset : offset + size]
            body = rr.request_body(uid, query, batch, top_n=server_top_n, instruction=instruction)
            what = f"rerank on {uid!r}"
            data = client.post_json("/v1/rerank", body, what=what)
            scores.extend(rr.parse_scores(data, len(batch), offset, what))
        return scores
