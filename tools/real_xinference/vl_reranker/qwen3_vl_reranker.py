"""A stand-in for Qwen3-VL-Reranker's repository script, for tests on a CPU without the 2B weights.

Xinference 4.1.0 runs `<model_path>/scripts/qwen3_vl_reranker.py` for a built-in `Qwen3-VL-Reranker*`
model: it builds `Qwen3VLReranker(model_name_or_path=…, **launch kwargs)` and calls
`process({"query": item, "documents": [item, …], "instruction"?: …})` for a list of scores, where an
item is `{"text": …}` or `{"image": "data:image/…;base64,…"}`. This one scores by cosine similarity of
the tiny random CLIP in `<model_path>/clip`. What it proves is Xinference's request handling (parsing,
dispatch to this script, response shaping) — not Qwen's model.
"""

from __future__ import annotations

import base64
import io
import os

import torch
from PIL import Image
from sentence_transformers import SentenceTransformer


def _decoded(item: dict):
    if item.get("text") is not None:
        return item["text"]
    image = item.get("image")
    if not isinstance(image, str) or not image.startswith("data:image/"):
        raise ValueError(f"expected a data:image/… URI, got {str(image)[:40]!r}")
    return Image.open(io.BytesIO(base64.b64decode(image.split(",", 1)[1]))).convert("RGB")


class Qwen3VLReranker:
    def __init__(self, model_name_or_path: str, **_launch_kwargs) -> None:
        self.clip = SentenceTransformer(os.path.join(model_name_or_path, "clip"), device="cpu")

    def _vector(self, item: dict) -> torch.Tensor:
        # one item per encode: sentence-transformers 5.7 refuses batches that mix text and images
        return self.clip.encode([_decoded(item)], convert_to_tensor=True)[0]

    def process(self, payload: dict) -> list[float]:
        query = self._vector(payload["query"])
        return [
            float(torch.nn.functional.cosine_similarity(query, self._vector(doc), dim=0))
            for doc in payload["documents"]
        ]
