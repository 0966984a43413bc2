"""Console commands with images: `embed --image FILE …` and `rerank --image-query FILE DOC…`.

They send what Dify >= 1.11 sends for a multimodal knowledge base: the raw base64 of each file (no
`data:` prefix, no MIME type) in `invoke_multimodal_embedding` / `invoke_multimodal_rerank`.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import TYPE_CHECKING

from tools.console import payloads, render

if TYPE_CHECKING:
    from tools.console.app import Console


def _image(path: str) -> dict:
    return payloads.content("image", base64.b64encode(Path(path).read_bytes()).decode(), Path(path).name)


def _documents(texts: list[str], images: list[str]) -> tuple[list[dict], list[str]]:
    """Texts first, then images, in the order given; and a label for each to print."""
    docs = [payloads.content("text", t) for t in texts] + [_image(p) for p in images]
    return docs, [*texts, *(f"[image {Path(p).name}]" for p in images)]


def run_embed(c: Console) -> int:
    a = c.args
    documents, labels = _documents(a.texts, a.image)
    data = payloads.embed_multimodal(a.uid, c.credentials("text-embedding"), documents, a.input_type)
    result = c.call(data)[0]
    c.out(json.dumps(result, ensure_ascii=False) if c.json else render.embeddings(labels, result))
    return 0


def run_rerank(c: Console) -> int:
    a = c.args
    if a.image_query:
        query = _image(a.image_query)
        texts = [t for t in (a.query, *a.docs) if t is not None]  # every positional is a document
    elif a.query is not None:  # a text query over image documents (--image-doc)
        query, texts = payloads.content("text", a.query), list(a.docs)
    else:
        raise ValueError("give a query text or --image-query FILE")
    documents, labels = _documents(texts, a.image_doc)
    if not documents:
        raise ValueError("give at least one document (text, or --image-doc FILE)")
    data = payloads.rerank_multimodal(
        a.uid, c.credentials("rerank"), query, documents, a.score_threshold, a.top_n
    )
    result = c.call(data)[0]
    if c.json:
        c.out(json.dumps(result, ensure_ascii=False, indent=2))
    else:  # show the file name, not the base64 Dify gets back
        shown = [{**d, "text": labels[d["index"]]} for d in result.get("docs") or []]
        c.out(render.ranking({**result, "docs": shown}))
    return 0
