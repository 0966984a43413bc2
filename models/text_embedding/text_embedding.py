"""Xinference embedding models as a Dify text-embedding model."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from decimal import Decimal
from typing import override

from dify_plugin.entities.model import AIModelEntity, EmbeddingInputType, ModelPropertyKey, ModelType
from dify_plugin.entities.model.schema import ModelFeature
from dify_plugin.entities.model.text_embedding import (
    EmbeddingUsage,
    MultiModalContent,
    MultiModalEmbeddingResult,
    TextEmbeddingResult,
)
from dify_plugin.interfaces.model.text_embedding_model import TextEmbeddingModel

from models._xinference.base import XinferenceModelMixin, validation_errors
from models._xinference.client import XinferenceClient
from models._xinference.credentials import XinferenceCredentials
from models._xinference.errors import HTTPStatusError
from models._xinference.model_info import TEXT_EMBEDDING, ModelDescription, takes_images
from models._xinference.schemas import model_entity, resolve_override
from models._xinference.tokens import estimate_tokens
from models.text_embedding import multimodal as mm
from models.text_embedding import vectors as emb

logger = logging.getLogger(__name__)

DEFAULT_CONTEXT_SIZE = 512  # the common BERT-family limit, used until the server has told us
_CHECK_TEXT = "Dify credential check"
# Statuses with which a server rejects input it cannot handle (Xinference: 500 for engine errors).
_INPUT_REJECTED = (400, 413, 422, 500)


class XinferenceTextEmbeddingModel(XinferenceModelMixin, TextEmbeddingModel):
    kind = TEXT_EMBEDDING

    def validate_credentials(self, model: str, credentials: Mapping) -> None:
        client, description = self._validated_description(credentials)
        with validation_errors():  # one tiny embedding proves the route, the key's scope and the vectors
            self._embed(client, description, [_CHECK_TEXT], EmbeddingInputType.QUERY)

    def _build_schema(
        self, model: str, creds: XinferenceCredentials | None, description: ModelDescription | None
    ) -> AIModelEntity:
        context = (description.max_tokens if description else None) or DEFAULT_CONTEXT_SIZE
        configured = creds.max_chunks if creds else XinferenceCredentials.model_fields["max_chunks"].default
        max_chunks = emb.safe_max_chunks(configured, description.dimensions if description else None)
        if max_chunks < configured:
            logger.info(
                "max_chunks lowered from %d to %d to fit the daemon's line limit", configured, max_chunks
            )
        properties = {ModelPropertyKey.CONTEXT_SIZE: context, ModelPropertyKey.MAX_CHUNKS: max_chunks}
        # VISION is Dify's only switch for a multimodal knowledge base (Dify >= 1.11)
        detected = bool(description and takes_images(description))
        images = creds is not None and resolve_override(creds.embedding_vision, detected)
        features = [ModelFeature.VISION] if images else None
        return model_entity(model, ModelType.TEXT_EMBEDDING, properties, features=features)

    @override
    def _invoke(
        self,
        model: str,
        credentials: dict,
        texts: list[str],
        user: str | None = None,
        input_type: EmbeddingInputType = EmbeddingInputType.DOCUMENT,
    ) -> TextEmbeddingResult:
        if not texts:
            return TextEmbeddingResult(model=model, embeddings=[], usage=self._usage(0))
        client = self._client(credentials)
        # cached: steady state costs one request per batch
        description = self._call_description(client)
        vectors, tokens = self._embed(client, description, texts, input_type)
        return TextEmbeddingResult(model=model, embeddings=vectors, usage=self._usage(tokens))

    @override
    def _invoke_multimodal(
        self,
        model: str,
        credentials: dict,
        documents: list[MultiModalContent],
        user: str | None = None,
        input_type: EmbeddingInputType = EmbeddingInputType.DOCUMENT,
    ) -> MultiModalEmbeddingResult:
        if not documents:
            return MultiModalEmbeddingResult(model=model, embeddings=[], usage=self._usage(0))
        client = self._client(credentials)
        description = self._call_description(client)
        creds = client.credentials
        items = mm.to_items(documents, creds, input_type)  # every image checked before any request
        mm.check_answer_size(len(items), description.dimensions)
        task, uid = emb.task_for(creds, input_type), description.uid
        size = emb.safe_max_chunks(creds.max_chunks, description.dimensions)
        dimensions = description.dimensions
        vectors: list[list[float] | None] = [None] * len(items)
        tokens = 0
        for positions in mm.modality_batches(items, size):
            what = f"embeddings on {uid!r}"
            body = mm.request_body(uid, [items[p] for p in positions], task)
            data = client.post_json("/v1/embeddings", body, what=what)
            batch = emb.parse_vectors(data, len(positions), dimensions, what)
            dimensions = dimensions or len(batch[0])  # text and image vectors must share one size
            for position, vector in zip(positions, batch, strict=True):
                vectors[position] = vector
            tokens += mm.reported_tokens(data)
        embeddings = [v for v in vectors if v is not None]
        return MultiModalEmbeddingResult(model=model, embeddings=embeddings, usage=self._usage(tokens))

    def get_num_tokens(self, model: str, credentials: dict, texts: list[str]) -> list[int]:
        return [estimate_tokens(text) for text in texts]  # offline: Dify calls this for every chunk

    # ---- helpers -------------------------------------------------------------------------

    def _embed(
        self,
        client: XinferenceClient,
        description: ModelDescription,
        texts: list[str],
        input_type: EmbeddingInputType,
    ) -> tuple[list[list[float]], int]:
        creds = client.credentials
        prepared = emb.prepare_texts(texts, creds, input_type)
        task = emb.task_for(creds, input_type)
        dimensions = description.dimensions
        vectors: list[list[float]] = []
        tokens = 0
        for offset, batch in emb.batches(prepared, creds.max_chunks):
            batch_vectors, batch_tokens = self._embed_batch(
                client=client,
                description=description,
                batch=batch,
                offset=offset,
                task=task,
                dimensions=dimensions,
            )
            dimensions = dimensions or len(batch_vectors[0])  # later batches must match the first
            vectors.extend(batch_vectors)
            tokens += batch_tokens
        return vectors, tokens

    def _embed_batch(
        self,
        *,
        client: XinferenceClient,
        description: ModelDescription,
        batch: list[str],
        offset: int,
        task: str,
        dimensions: int | None,
    ) -> tuple[list[list[float]], int]:
        creds, uid, limit = client.credentials, description.uid, description.max_tokens
        long_texts = emb.over_limit(batch, limit)
        if long_texts and not creds.truncate_long_texts:
            for position, tokens in long_texts:
                if limit and tokens > limit:
                    cause = "truncation by the server is turned off for this model"
                    raise emb.too_long_error(uid, limit, offset + position, tokens, cause)
        truncate = bool(long_texts) and creds.truncate_long_texts
        body = emb.request_body(uid, batch, task=task, truncate=truncate)
        emb.ask_for_base64(body, len(batch), dimensions)
        what = f"embeddings on {uid!r}"
        try:
            data = client.post_json("/v1/embeddings", body, what=what)
        except HTTPStatusError as err:
            if long_texts and limit and err.status_code in _INPUT_REJECTED:
                position, tokens = long_texts[0]
                cause = f"the server refused it (HTTP {err.status_code}: {err.detail[:200]})"
                raise emb.too_long_error(uid, limit, offset + position, tokens, cause) from None
            raise
        vectors = emb.parse_vectors(data, len(batch), dimensions, what)
        # no count from the server (none, or 0): estimate rather than bill nothing
        used = emb.usage_tokens(data) or sum(estimate_tokens(t) for t in batch)
        return vectors, used

    def _usage(self, tokens: int) -> EmbeddingUsage:
        # Self-hosted models have no price; built directly (the SDK's helper looks the schema up for it).
        zero = Decimal(0)
        return EmbeddingUsage(
            tokens=tokens,
            total_tokens=tokens,
            unit_price=zero,
            price_unit=zero,
            total_price=zero,
            currency="USD",
            latency=time.perf_counter() - self.started_at,  # set by the SDK around every invoke
        )
