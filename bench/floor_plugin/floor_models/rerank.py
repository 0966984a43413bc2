"""Floor rerank: every document with a constant score, best first; no HTTP."""

from __future__ import annotations

from collections.abc import Mapping

from dify_plugin.entities.model import AIModelEntity, FetchFrom, ModelType
from dify_plugin.entities.model.rerank import RerankDocument, RerankResult
from dify_plugin.errors.model import InvokeError
from dify_plugin.interfaces.model.rerank_model import RerankModel
from floor_models import constants


class FloorRerank(RerankModel):
    def _invoke(  # noqa: PLR0917  (the SDK's signature)
        self, model, credentials, query, docs, score_threshold=None, top_n=None, user=None
    ) -> RerankResult:
        ranked = [RerankDocument(index=i, text=d, score=constants.score(i)) for i, d in enumerate(docs)]
        return RerankResult(model=model, docs=ranked)

    def validate_credentials(self, model: str, credentials: Mapping) -> None:
        pass

    def get_customizable_model_schema(self, model: str, credentials: Mapping) -> AIModelEntity:
        return AIModelEntity(
            model=model,
            label={"en_US": model},
            model_type=ModelType.RERANK,
            fetch_from=FetchFrom.CUSTOMIZABLE_MODEL,
            model_properties={},
        )

    @property
    def _invoke_error_mapping(self) -> dict[type[InvokeError], list[type[Exception]]]:
        return {}
