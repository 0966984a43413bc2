"""Xinference embedding models as a Dify text-embedding model."""

from __future__ import annotations

from collections.abc import Mapping

from dify_plugin.entities.model import AIModelEntity, EmbeddingInputType, ModelPropertyKey, ModelType
from dify_plugin.entities.model.text_embedding import TextEmbeddingResult
from dify_plugin.interfaces.model.text_embedding_model import TextEmbeddingModel

from models._xinference.base import XinferenceModelMixin
from models._xinference.credentials import parse_credentials
from models._xinference.schemas import model_entity


class XinferenceTextEmbeddingModel(XinferenceModelMixin, TextEmbeddingModel):
    def validate_credentials(self, model: str, credentials: Mapping) -> None:
        self._validated_description(credentials, "Text Embedding", lambda d: d.model_type == "embedding")

    def get_customizable_model_schema(self, model: str, credentials: Mapping) -> AIModelEntity | None:
        creds = parse_credentials(credentials)
        return model_entity(model, ModelType.TEXT_EMBEDDING, {ModelPropertyKey.CONTEXT_SIZE: 512,
                                                              ModelPropertyKey.MAX_CHUNKS: creds.max_chunks})

    def _invoke(
        self,
        model: str,
        credentials: dict,
        texts: list[str],
        user: str | None = None,
        input_type: EmbeddingInputType = EmbeddingInputType.DOCUMENT,
    ) -> TextEmbeddingResult:
        raise NotImplementedError("embedding is not built yet")

    def get_num_tokens(self, model: str, credentials: dict, texts: list[str]) -> list[int]:
        return [len(t) // 4 for t in texts]
