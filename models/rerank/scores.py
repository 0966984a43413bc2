"""Rerank translation: Dify query/docs -> `/v1/rerank` bodies, answers -> checked, merged scores.

Pure functions, no HTTP. The model class (models/rerank) sends what these build.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from dify_plugin.entities.model.rerank import RerankDocument

from models._xinference.errors import bad_response


def wanted_count(top_n: int | None) -> int | None:
    """How many documents Dify wants; the daemon sends 0 (Go's zero value) when Dify set none."""
    return top_n if top_n and top_n > 0 else None


def wanted_threshold(score_threshold: float | None) -> float | None:
    """Same zero-value rule as `wanted_count`: 0/None = keep every score."""
    return score_threshold if score_threshold else None


def request_body(
    uid: str, query: str | dict, documents: list[str] | list[dict], *, top_n: int | None, instruction: str
) -> dict[str, Any]:
    """Texts, or `{"text" | "image": …}` items for a multimodal reranker."""
    body: dict[str, Any] = {
        "model": uid,
        "query": query,
        "documents": documents,
        "return_documents": False,  # we answer with our own texts; no need to ship them back
    }
    if top_n is not None:
        body["top_n"] = top_n
    if instruction:
        # Xinference takes engine options as a JSON *string*; an object gives HTTP 500.
        body["kwargs"] = json.dumps({"instruction": instruction})
    return body


def parse_scores(data: Any, count: int, offset: int, what: str) -> list[tuple[int, float]]:
    """(index into the full document list, score) for each result of one batch of `count` documents."""
    results = data.get("results") if isinstance(data, Mapping) else None
    if not isinstance(results, list):
        raise bad_response(what, "no 'results' list in the answer")
    scores: list[tuple[int, float]] = []
    seen: set[int] = set()
    for position, item in enumerate(results):
        if not isinstance(item, Mapping):
            raise bad_response(what, f"result {position} is not an object")
        index = item.get("index")
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < count:
            raise bad_response(what, f"result {position} has index {index!r}, not one of 0..{count - 1}")
        if index in seen:
            raise bad_response(what, f"document {index} was scored twice")
        seen.add(index)
        scores.append((offset + index, _score(item.get("relevance_score"), index, what)))
    return scores


def _score(value: Any, index: int, what: str) -> float:
    if value is None:
        # a missing score is not a zero score: ranking on it would be silently wrong
        raise bad_response(what, f"document {index} came back without a relevance_score")
    if isinstance(value, bool):
        raise bad_response(what, f"document {index} has relevance_score {value!r}, not a number")
    try:
        score = float(value)  # some servers send numbers as strings
    except (TypeError, ValueError):
        raise bad_response(
            what, f"document {index} has relevance_score {str(value)[:40]!r}, not a number"
        ) from None
    if not math.isfinite(score):
        raise bad_response(what, f"document {index} has relevance_score {value!r}, not a finite number")
    return score


def select(
    scores: list[tuple[int, float]], docs: Sequence[str], *, threshold: float | None, top_n: int | None
) -> list[RerankDocument]:
    """Best first (ties keep input order), at or above the threshold, at most top_n; texts from OUR input."""
    ranked = sorted(scores, key=lambda pair: (-pair[1], pair[0]))
    if threshold is not None:
        ranked = [pair for pair in ranked if pair[1] >= threshold]
    if top_n is not None:
        ranked = ranked[:top_n]
    return [RerankDocument(index=index, text=docs[index], score=score) for index, score in ranked]
