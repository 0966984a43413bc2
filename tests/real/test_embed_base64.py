"""Large embedding answers come as base64 float32 from a real 4.x server, and decode to the same vectors."""

from __future__ import annotations

import pytest
import requests

from models.text_embedding.vectors import BASE64_FROM_VALUES
from tests.real.capabilities import has
from tests.real.support import OPEN_URL, UIDS, credentials, ok
from tools.console import payloads

pytestmark = pytest.mark.real

DIMS = 384  # the MiniLM test model
TEXTS = [f"Sentence number {i} about topic {i % 7}." for i in range(48)]


def _embed(plugin, max_chunks: int) -> list[list[float]]:
    creds = credentials(UIDS["embed"], max_chunks=str(max_chunks))
    return ok(plugin, payloads.embed("my-embed", creds, TEXTS))[-1]["embeddings"]


@pytest.mark.skipif(
    not has("base64_embeddings"), reason="releases up to 3.2 answer floats to base64 requests"
)
def test_the_real_server_honours_base64_for_a_batch_that_asks_for_it():
    assert len(TEXTS) * DIMS >= BASE64_FROM_VALUES > 8 * DIMS  # one request of 48 asks; batches of 8 do not
    body = {"model": UIDS["embed"], "input": TEXTS[:2], "encoding_format": "base64"}
    answer = requests.post(f"{OPEN_URL}/v1/embeddings", json=body, timeout=60).json()
    assert all(isinstance(item["embedding"], str) for item in answer["data"])


def test_base64_batch_gives_the_vectors_of_float_batches(plugin):
    as_base64 = _embed(plugin, max_chunks=64)  # 48 x 384 numbers: base64
    as_floats = _embed(plugin, max_chunks=8)  # 8 x 384 per request: floats
    assert len(as_base64) == len(as_floats) == len(TEXTS)
    for i, (a, b) in enumerate(zip(as_base64, as_floats, strict=True)):
        assert len(a) == len(b) == DIMS
        assert max(abs(x - y) for x, y in zip(a, b, strict=True)) < 1e-4, f"vector {i} differs"
