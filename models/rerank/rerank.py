"""Xinference rerank models as a Dify rerank model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, override

from dify_plugin.entities.model import AIModelEntity, ModelType
from dify_plugin.entities.model.rerank import MultiModalRerankResult, RerankResult
from dify_plugin.entities.model.schema import ModelFeature
from dify_plugin.entities.model.text_embedding import MultiModalContent
from dify_plugin.interfaces.model.rerank_model import RerankModel

from models._xinference.base import XinferenceModelMixin, validation_errors
from models._xinference.client import XinferenceClient
from models._xinference.credentials import XinferenceCredentials
from models._xinference.model_info import RERANK, ModelDescription
from models._xinference.schemas import model_entity, resolve_override
from models.rerank import multimodal as mm
from models.rerank import scores as rr

_CHECK_QUERY = "Dify credential check"


class XinferenceRerankModel(XinferenceModelMixin, RerankModel):
    kind = RERANK

    def validate_credentials(self, model: str, credentials: Mapping) -> None:
        client, description = self._validated_description(credentials)
        with validation_errors():  # one tiny rerank proves the route, the key's scope and the answer shape
            self._scores(client, description.uid, _CHECK_QUERY, [_CHECK_QUERY], None)

    def _schema_reads_description(self, creds: XinferenceCredentials) -> bool:
        return creds.rerank_vision == "auto"  # only then is the server asked

    def _build_schema(
        self, model: str, creds: XinferenceCredentials | None, description: ModelDescription | None
    ) -> AIModelEntity:
        if creds is None:
            return model_entity(model, ModelType.RERANK, {})
        images = resolve_override(creds.rerank_vision, bool(description and mm.images_detected(description)))
        # VISION is what makes Dify send image queries here (Dify >= 1.11)
        features = [ModelFeature.VISION] if images else None
        return model_entity(model, ModelType.RERANK, {}, features=features)

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
        description = self._call_description(client)
        wanted = rr.wanted_count(top_n)
        scores = self._scores(client, description.uid, query, docs, wanted)
        selected = rr.select(scores, docs, threshold=rr.wanted_threshold(score_threshold), top_n=wanted)
        return RerankResult(model=model, docs=selected)

    @override
    def _invoke_multimodal(
        self,
        model: str,
        credentials: dict,
        query: MultiModalContent,
        docs: Sequence[MultiModalContent],
        score_threshold: float | None = None,
        top_n: int | None = None,
        user: str | None = None,
    ) -> MultiModalRerankResult:
        if not docs:
            return MultiModalRerankResult(model=model, docs=[])
        client = self._client(credentials)
        description = self._call_description(client)
        query_item, doc_items = mm.to_items(query, docs)  # every image checked before any request
        mm.refuse_string_images(description, [query_item, *doc_items])
        wanted = rr.wanted_count(top_n)
        scores = self._scores(client, description.uid, query_item, doc_items, wanted)
        # Dify gets back what it sent (the base64 of an image document), matched by index
        contents = [doc.content for doc in docs]
        selected = rr.select(scores, contents, threshold=rr.wanted_threshold(score_threshold), top_n=wanted)
        return MultiModalRerankResult(model=model, docs=selected)

    @staticmethod
    def _scores(
        client: XinferenceClient, uid: str, query: Any, docs: Sequence[Any], top_n: int | None
    ) -> list[tuple[int, float]]:
        """Scores for all docs, in batches of the admin's size. Xinference's rerankers score each
        (query, document) pair on its own, so scores from separate requests compare directly."""
        size = client.credentials.rerank_batch_size
        instruction = client.credentials.rerank_instruction
        # the server may cut to top_n only when it sees every document at once
        server_top_n = top_n if len(docs) <= size else None
        scores: list[tuple[int, float]] = []
        for offset in range(0, len(docs), size):
            batch = list(docs[offset : offset + size])
            body = rr.request_body(uid, query, batch, top_n=server_top_n, instruction=instruction)
            what = f"rerank on {uid!r}"
            data = client.post_json("/v1/rerank", body, what=what)
            scores.extend(rr.parse_scores(data, len(batch), offset, what))
        return scores
