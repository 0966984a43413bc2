"""Embedding 1,000 texts through the plugin's batching vs one text per request (4)."""

from __future__ import annotations

import time

from dify_plugin.entities.model import EmbeddingInputType

from bench.common import Result, Target, interleaved, median
from models.text_embedding.text_embedding import XinferenceTextEmbeddingModel

TEXTS = 1000


def texts(n: int = TEXTS) -> list[str]:
    return [
        f"Chunk {i} of the knowledge base: paragraph text about topic {i % 37}, section {i // 37}."
        for i in range(n)
    ]


def embed_batching(target: Target, reps: int) -> list[Result]:
    credentials = target.credentials(target.embed_uid)
    docs = texts()
    session = target.session()

    def invoke(batch: list[str]):
        model = XinferenceTextEmbeddingModel(model_schemas=[])
        return model.invoke(target.embed_uid, credentials, batch, None, EmbeddingInputType.DOCUMENT)

    invoke(docs[:1])  # warm: description cached, connection open
    counts: list[int] = []

    def plugin() -> float:
        before = target.count()
        start = time.perf_counter()
        result = invoke(docs)
        elapsed = time.perf_counter() - start
        counts.append(target.count() - before)
        assert len(result.embeddings) == len(docs), f"{len(result.embeddings)} vectors for {len(docs)} texts"
        return elapsed

    def raw() -> float:
        start = time.perf_counter()
        for text in docs:
            response = session.post(
                target.url + "/v1/embeddings", json={"model": target.embed_uid, "input": text}, timeout=120
            )
            response.raise_for_status()
            response.json()
        return time.perf_counter() - start

    def raw_batched(batch: int) -> float:  # the physical limit for batching: the same batches, plain requests
        start = time.perf_counter()
        for i in range(0, len(docs), batch):
            body = {"model": target.embed_uid, "input": docs[i : i + batch]}
            response = session.post(target.url + "/v1/embeddings", json=body, timeout=120)
            response.raise_for_status()
            response.json()
        return time.perf_counter() - start

    plugin_times, raw_times = interleaved(reps, plugin, raw)
    batch = max(1, -(-len(docs) // max(counts)))  # the plugin's batch size, from its request count
    batched = median([raw_batched(batch) for _ in range(reps)])
    p, r = median(plugin_times), median(raw_times)
    plugin_requests = max(counts)
    return [
        Result(
            "embed_request_ratio",
            round(plugin_requests / len(docs), 4),
            f"{plugin_requests} requests",
            f"{len(docs)} requests",
            {"plugin_requests": plugin_requests, "raw_requests": len(docs)},
        ),
        Result(
            "embed_time_ratio",
            round(p / r, 3),
            f"{p * 1e3:.0f} ms",
            f"{r * 1e3:.0f} ms one per text; {batched * 1e3:.0f} ms in the same batches",
            {"plugin_ms": p * 1e3, "raw_ms": r * 1e3, "raw_same_batches_ms": batched * 1e3, "reps": reps},
        ),
    ]
