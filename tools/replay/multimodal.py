"""Replay answers for image embedding and image rerank (recorded from a real Xinference 4.1.0: mm_*).

The recorded server refuses a batch that mixes text and images and a raw-base64 "image" with HTTP 500
(mm_04, mm_05): so does the replay. Other item lists get deterministic vectors of the description's
size, and a multimodal rerank gives an identical query/document pair the score 1.0, as the recorded
Qwen3-VL-Reranker path does.
"""

from __future__ import annotations

import hashlib
import json
import math
import struct

MIXED_BATCH = "mm_04_clip_embed_mixed_batch.txt"
RAW_BASE64 = "mm_05_clip_embed_raw_base64.txt"
PIXELS_PER_IMAGE = 3072  # what the recorded server counted for each 32x32 RGB image


def is_multimodal(items: list) -> bool:
    return any(isinstance(item, dict) for item in items)


def refusal(items: list) -> str | None:
    """The recorded error the real server gives for these items, or None if it embeds them."""
    kinds = {"image" if isinstance(i, dict) and "text" not in i and "image" in i else "text" for i in items}
    if len(kinds) > 1:
        return MIXED_BATCH
    images = [i["image"] for i in items if isinstance(i, dict) and "text" not in i and "image" in i]
    if any(not str(image).startswith("data:image/") for image in images):
        return RAW_BASE64
    return None


def vector(item: object, dimensions: int) -> list[float]:
    """A unit vector seeded by the item: equal items, equal vectors; different images differ."""
    seed = json.dumps(item, sort_keys=True).encode()
    raw = b"".join(hashlib.sha256(seed + bytes([n])).digest() for n in range(math.ceil(dimensions / 8)))
    values = [v / 2**31 - 1.0 for v in struct.unpack(f"<{dimensions}I", raw[: dimensions * 4])]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]


def usage(items: list) -> int:
    images = sum(1 for i in items if isinstance(i, dict) and "text" not in i)
    words = sum(len(str(i.get("text", "")).split()) + 2 for i in items if isinstance(i, dict) and "text" in i)
    return images * PIXELS_PER_IMAGE + words


def embeddings_answer(uid: str, items: list, dimensions: int | None) -> dict | str:
    """The answer body, or the name of the recorded error dump the real server gives instead."""
    if name := refusal(items):
        return name
    size = dimensions or 16
    data = [{"index": i, "object": "embedding", "embedding": vector(x, size)} for i, x in enumerate(items)]
    tokens = usage(items)
    return {
        "object": "list",
        "model": uid,
        "data": data,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def score(query: object, doc: object) -> float:
    """Cosine of the seeded vectors, rescaled to 0..1; identical items score 1.0."""
    if query == doc:
        return 1.0
    a, b = vector(query, 16), vector(doc, 16)
    return round((1.0 + sum(x * y for x, y in zip(a, b, strict=True))) / 2, 6)
