"""The constants the floor answers with, shared with bench/synth_server.py so that the floor and the
plugin write answers of the same size (a float's JSON text length is part of the runtime's cost)."""

from __future__ import annotations

import functools
import math
import struct

REPLY = "Hello! How can I help you today?"
STREAM_CHUNKS = 16  # credentials may ask for another number: floor_chunks
PROMPT_TOKENS, COMPLETION_TOKENS = 12, 9


@functools.cache
def vector(dimensions: int) -> tuple[float, ...]:
    """An L2-normalised float32 vector widened to float64, as embedding servers send them."""
    raw = [math.sin(i * 0.7 + 1.0) for i in range(dimensions)]
    norm = math.sqrt(sum(x * x for x in raw))
    packed = struct.pack(f"<{dimensions}f", *(x / norm for x in raw))
    return struct.unpack(f"<{dimensions}f", packed)


def score(index: int) -> float:
    return struct.unpack("<f", struct.pack("<f", 1.0 / (index + 1.5)))[0]
