"""The offline token estimate (tokens.py) Dify shows as usage when the server reports none, priced piece
by piece the way a byte-level BPE tokenizer cuts text: the prices of each kind of piece, and where a
long text starts being priced from samples."""

from __future__ import annotations

import pytest

from models._xinference import tokens
from models._xinference.tokens import estimate_tokens


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a", 1),  # the smallest text is one token
        ("123 456 789", 4),  # a group of up to three digits is one token, a space half of one
        ("'hello", 1),  # an apostrophe joins the word like a space does ...
        ("(hello", 2),  # ... another punctuation mark is a token of its own
        ("camelCase", 2),  # 1 + 2/6 for its length, x 1.25 for its odd case
        ("中文abcdef", 5),  # one token per CJK character, half a token per other letter beside them
        ("é", 1),  # other scripts: one token per 2.5 bytes, at least one
        ("Привет", 5),  # 12 bytes
    ],
)
def test_each_kind_of_piece_has_its_price(text, expected):
    assert estimate_tokens(text) == expected


def test_a_text_of_16000_characters_is_counted_whole():
    text = ("wordy " * 2667)[:16_000]  # 2,667 words of one token each
    assert estimate_tokens(text) == 2667


def test_a_longer_text_is_priced_from_samples_scaled_to_its_length():
    text = "wordy " * 5000  # 5,000 one-token words: samples cut some words in two, a few more pieces
    assert 5000 <= estimate_tokens(text) <= 5000 * 1.02


def test_the_piece_price_cache_never_holds_more_than_its_limit():
    """The documented bound (process_state.py: 50,000 pieces) holds at the piece that crosses it."""
    limit = tokens._PieceCosts._LIMIT
    words = [f" w{n:06d}".translate(str.maketrans("0123456789", "abcdefghij")) for n in range(limit + 1)]
    for start in range(0, limit, 1_000):  # 1,000 words a text: short enough to be priced whole
        estimate_tokens("".join(words[start : start + 1_000]))
    assert len(tokens._PIECE_COSTS) == limit
    estimate_tokens(words[limit])
    assert len(tokens._PIECE_COSTS) <= limit
