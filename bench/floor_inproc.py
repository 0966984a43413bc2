"""The in-process side of the floor comparison (bench/floor_sides.py has the other two)."""

from __future__ import annotations

import sys
import time

from bench.floor_sides import (
    CHAT_UID,
    CPU_CHUNKS,
    CPU_UID,
    FLOOR_ROOT,
    PARAMETERS,
    QUERY,
    RERANK_UID,
    TTFC_CHUNKS,
    Times,
    batches,
    credentials,
    embed_uid,
    now,
    since,
)


class InProcess:
    """A plugin's model classes called directly in this process, a fresh instance per call as the
    SDK makes one per request (so its construction is counted)."""

    def __init__(self, url: str, *, floor: bool) -> None:
        from dify_plugin.entities.model.message import SystemPromptMessage, UserPromptMessage

        self.url, self.floor = url, floor
        self.messages = [SystemPromptMessage(content="You are terse."), UserPromptMessage(content="Say hi")]
        if floor:
            sys.path.insert(0, str(FLOOR_ROOT))
            from floor_models.llm import FloorLLM as Llm
            from floor_models.rerank import FloorRerank as Rerank
            from floor_models.text_embedding import FloorTextEmbedding as Embedding
        else:
            from models.llm.llm import XinferenceLargeLanguageModel as Llm
            from models.rerank.rerank import XinferenceRerankModel as Rerank
            from models.text_embedding.text_embedding import XinferenceTextEmbeddingModel as Embedding
        self.classes = Llm, Embedding, Rerank

    def _creds(self, uid: str, **floor: str) -> dict[str, str]:
        return credentials(self.url, uid, **(floor if self.floor else {}))

    def _llm(self, uid: str, stream: bool, chunks: int):
        creds = self._creds(uid, floor_chunks=str(chunks))
        model = self.classes[0](model_schemas=[])
        return model.invoke(uid, creds, list(self.messages), dict(PARAMETERS), None, None, stream)

    def chat(self) -> Times:
        start = now(time.thread_time)
        list(self._llm(CHAT_UID, False, 1))  # the SDK answers a blocking call as a one-chunk generator
        return since(start, time.thread_time)

    def first_chunk(self) -> Times:
        start = now(time.thread_time)
        chunks = self._llm(CHAT_UID, True, TTFC_CHUNKS)
        next(chunks)
        elapsed = since(start, time.thread_time)
        for _ in chunks:
            pass
        return elapsed

    def stream_cpu(self) -> Times:
        start = time.thread_time()
        got = sum(1 for _ in self._llm(CPU_UID, True, CPU_CHUNKS))
        assert got >= CPU_CHUNKS, f"{got} chunks for {CPU_CHUNKS}"
        cpu = (time.thread_time() - start) / CPU_CHUNKS
        return cpu, cpu

    def embed(self, dims: int, docs: list[str], floats: bool = False) -> Times:
        from dify_plugin.entities.model import EmbeddingInputType

        uid = embed_uid(dims, floats)
        creds = self._creds(uid, floor_dims=str(dims))
        start = now(time.thread_time)
        for batch in batches(docs):
            model = self.classes[1](model_schemas=[])
            result = model.invoke(uid, creds, batch, None, EmbeddingInputType.DOCUMENT)
            assert len(result.embeddings) == len(batch), "a vector per text"
        return since(start, time.thread_time)

    def rerank(self, docs: list[str]) -> Times:
        start = now(time.thread_time)
        model = self.classes[2](model_schemas=[])
        result = model.invoke(RERANK_UID, self._creds(RERANK_UID), QUERY, docs, None, None, None)
        assert len(result.docs) == len(docs), "every document ranked"
        return since(start, time.thread_time)
