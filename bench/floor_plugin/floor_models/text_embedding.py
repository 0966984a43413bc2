"""Floor embeddings: one constant vector of `floor_dims` (default 384) per text; no HTTP."""

from __future__ import annotations

import time
from collections.abc import Mapping

from dify_plugin.entities.model import AIModelEntity, FetchFrom, ModelType
from dify_plugin.entities.model.text_embedding import EmbeddingUsage, TextEmbeddingResult
from dify_plugin.errors.model import InvokeError
from dify_plugin.interfaces.model.text_embedding_model import TextEmbeddingModel
from floor_models import constants


class FloorTextEmbedding(TextEmbeddingModel):
    def _invoke(self, model, credentials, texts, user=None, input_type=None) -> TextEmbeddingResult:
        vector = list(constants.vector(int(credentials.get("floor_dims") or 384)))
        usage = EmbeddingUsage(
            tokens=len(texts),
            total_tokens=len(texts),
            unit_price=0,
            price_unit=0,
            total_price=0,
            currency="USD",
            latency=time.perf_counter() - self.started_at,
        )
        return TextEmbeddingResult(model=model, embeddings=[vector] * len(texts), usage=usage)

    def get_num_tokens(self, model, credentials, texts) -> list[int]:
        return [1] * len(texts)

    def validate_credentials(self, model: str, credentials: Mapping) -> None:
        pass

    def get_customizable_model_schema(self, model: str, credentials: Mapping) -> AIModelEntity:
        return AIModelEntity(
            model=model,
            label={"en_US": model},
            model_type=ModelType.TEXT_EMBEDDING,
            fetch_from=FetchFrom.CUSTOMIZABLE_MODEL,
            model_properties={"context_size": 512, "max_chunks": 32},
        )

    @property
    def _invoke_error_mapping(self) -> dict[type[InvokeError], list[type[Exception]]]:
        return {}
