"""The token estimate prices pieces from a cache: a warm cache must give the same count as a cold
one, and text with endless distinct pieces (random ids, hashes) must not grow it without bound."""

from __future__ import annotations

import random
import string

from models._xinference import tokens
from models._xinference.tokens import estimate_tokens

TEXT = "Revenue grew 12% in Zürich and 東京; the camelCase API returned HTTP 503 (ticket #4471).\n\n" * 40


def test_a_warm_cache_gives_the_same_count_as_a_cold_one():
    tokens._PIECE_COSTS.clear()
    cold = estimate_tokens(TEXT)
    assert len(tokens._PIECE_COSTS) > 10
    assert estimate_tokens(TEXT) == cold
    priced_alone = sum(tokens._piece_cost(p) for p in tokens._PIECES.findall(TEXT))
    assert cold == round(priced_alone)


def test_distinct_pieces_never_grow_the_cache_past_its_limit():
    rng = random.Random(7)
    words = [
        " " + "".join(rng.choices(string.ascii_lowercase, k=12)) for _ in range(3 * tokens._PieceCosts._LIMIT)
    ]
    for start in range(0, len(words), 2_000):
        estimate_tokens("".join(words[start : start + 2_000]))
        assert len(tokens._PIECE_COSTS) <= tokens._PieceCosts._LIMIT
    # still priced correctly after the cache was emptied: 12 letters = 1 + 5/6 tokens each
    assert estimate_tokens(" abcdefghijkl" * 10) == round(10 * (1 + 5 / 6))
