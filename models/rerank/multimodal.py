"""Multimodal rerank translation: Dify's text or image query and documents -> `/v1/rerank` items.

Xinference's Qwen3-VL-Reranker path takes the query and every document as `{"text": …}` or
`{"image": "data:image/…;base64,…"}` and scores each (query, document) pair on its own, so the
batching and merging of the text path apply unchanged. Pure functions, no HTTP.
"""

from __future__ import annotations

from collections.abc import Sequence

from dify_plugin.entities.model.text_embedding import MultiModalContent, MultiModalContentType
from dify_plugin.errors.model import InvokeBadRequestError

from models._xinference.images import image_data_uri
from models._xinference.model_info import ModelDescription, takes_images

# jina-reranker-m0 wants images as bare strings plus kwargs doc_type/query_type="image", one type per
# request, and which image encodings its remote code decodes could not be checked without its weights
# (2.4 GB). Rather than send it something that may be scored as text, it stays text-only here.
_STRING_IMAGE_RERANKERS = frozenset({"jina-reranker-m0"})


def string_images(description: ModelDescription) -> bool:
    return description.model_name.lower() in _STRING_IMAGE_RERANKERS


def images_detected(description: ModelDescription) -> bool:
    """What "auto" means for the rerank image override."""
    return takes_images(description) and not string_images(description)


def to_item(content: MultiModalContent, what: str) -> dict[str, str]:
    if content.content_type == MultiModalContentType.IMAGE:
        return {"image": image_data_uri(content.content, f"{what} (an image)")}
    return {"text": content.content}


def to_items(query: MultiModalContent, docs: Sequence[MultiModalContent]) -> tuple[dict, list[dict]]:
    """The query item and the document items, in order; a bad image raises, naming its position."""
    return to_item(query, "the query"), [to_item(doc, f"document {n}") for n, doc in enumerate(docs, 1)]


def refuse_string_images(description: ModelDescription, items: Sequence[dict]) -> None:
    if string_images(description) and any("image" in item for item in items):
        raise InvokeBadRequestError(
            f"Model {description.uid!r} ({description.model_name}) takes images in a form this plugin does "
            "not send yet; use it for text only (set its Images option to Text only), or rank images "
            "with a Qwen3-VL-Reranker model."
        )
