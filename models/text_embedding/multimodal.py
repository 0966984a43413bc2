"""Multimodal embedding translation: Dify's text and image items -> `/v1/embeddings` requests.

Xinference (sentence-transformers ≥ 5.7) refuses a request that mixes text and images, so the items
are split by modality into requests of at most the admin's batch size; the vectors are put back in
Dify's order by position. Pure functions, no HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from dify_plugin.entities.model import EmbeddingInputType
from dify_plugin.entities.model.text_embedding import MultiModalContent, MultiModalContentType
from dify_plugin.errors.model import InvokeBadRequestError

from models._xinference.credentials import XinferenceCredentials
from models._xinference.images import image_data_uri
from models.text_embedding import vectors as emb

Item = dict[str, str]  # {"text": …} or {"image": "data:image/…;base64,…"}


def to_items(
    documents: Sequence[MultiModalContent], creds: XinferenceCredentials, input_type: EmbeddingInputType
) -> list[Item]:
    """One Xinference input item per Dify document, in order; a bad image raises, naming its position."""
    prefix = creds.query_prefix if input_type == EmbeddingInputType.QUERY else creds.document_prefix
    items: list[Item] = []
    for position, document in enumerate(documents, 1):
        if document.content_type == MultiModalContentType.IMAGE:
            items.append({"image": image_data_uri(document.content, f"item {position} (an image)")})
        else:
            items.append({"text": prefix + document.content})
    return items


def modality_batches(items: Sequence[Item], size: int) -> Iterator[list[int]]:
    """Positions of the items for each request: one modality per request, at most `size` items."""
    for modality in ("text", "image"):
        positions = [p for p, item in enumerate(items) if modality in item]
        for start in range(0, len(positions), size):
            yield positions[start : start + size]


def request_body(uid: str, items: list[Item], task: str) -> dict[str, Any]:
    body: dict[str, Any] = {"model": uid, "input": items}
    if task:
        body["task"] = task
    return body


def check_answer_size(count: int, dimensions: int | None) -> None:
    """Refuse a call whose answer to Dify would not fit the daemon's line limit (it would kill us)."""
    if dimensions and count * dimensions * emb.BYTES_PER_FLOAT > emb.ANSWER_BUDGET_BYTES:
        fits = emb.safe_max_chunks(count, dimensions)
        raise InvokeBadRequestError(
            f"{count} items of {dimensions} dimensions would make an answer larger than the plugin daemon "
            f"accepts (5 MiB); send at most {fits} items per call (Texts per request)."
        )


def reported_tokens(data: Mapping[str, Any]) -> int:
    """The server's usage; 0 when it reports none or a negative count (Qwen3-VL-Embedding says -1).

    Image usage cannot be estimated offline the way text tokens are, so nothing is made up here.
    """
    return emb.usage_tokens(data) or 0
