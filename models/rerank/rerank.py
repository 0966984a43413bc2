"""Xinference rerank models as a Dify rerank model."""

from __future__ import annotations

from collections.abc import Mapping

from dify_plugin.entities.model import AIModelEntity, ModelType
from dify_plugin.entities.model.rerank import RerankResult
from dify_plugin.interfaces.model.rerank_model import RerankModel

from models._xinference.base import XinferenceModelMixin
from models._xinference.schemas import model_entity


class XinferenceRerankModel(XinferenceModelMixin, RerankModel):
    def validate_credentials(self, model: str, credentials: Mapping) -> None:
        self._validated_description(credentials, "Rerank", lambda d: d.model_type == "rerank")

    def get_customizable_model_schema(self, model: str, credentials: Mapping) -> AIModelEntity | None:
        return model_entity(model, ModelType.RERANK, {})

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
        raise NotImplementedError("rerank is not built yet")
