"""Offline token estimates for when the server reports no usage (and for get_num_tokens).

Never downloads anything: the SDK's GPT-2 counter fetches its vocabulary from the internet on first
use, which fails on the air-gapped hosts many of our users run. This is a heuristic tuned to land
near a BPE count for English and to count CJK characters one by one.
"""

from __future__ import annotations

import re

# words, numbers (BPE splits long digit runs into groups of up to 3), CJK ideographs/kana/hangul
# one by one, any other non-space character alone
_PIECES = re.compile(r"[A-Za-z]+|\d{1,3}|[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]|[^\sA-Za-z\d]")


def estimate_tokens(text: str) -> int:
    if not text:
        return 0
    count = 0
    for match in _PIECES.finditer(text):
        piece = match.group()
        if piece[0].isascii() and piece[0].isalpha():
            # common English words are one token; long/rare words split into ~4-letter pieces
            count += 1 if len(piece) <= 6 else 1 + (len(piece) - 3) // 4
        else:
            count += 1
    return count
