"""Splitting long text for TTS: at sentence ends, into pieces no longer than a limit.

TTS models degrade or truncate on long input, and smaller pieces let the first audio arrive sooner
and let several pieces be synthesised at once. Pieces are cut, in order of preference, after a
sentence end, after a clause mark or space, and only as a last resort in the middle of a word.
"""

from __future__ import annotations

import re

# After 。！？!?；;… or a newline; after "." only when a space follows (keeps 3.14 and e.g. whole).
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;…\n])|(?<=\.)(?=\s)")
_CLAUSE_END = re.compile(r"(?<=[，、,：:])")
_SPACE = re.compile(r"(?<=\s)(?=\S)")
_BOUNDARIES = (_SENTENCE_END, _CLAUSE_END, _SPACE)  # most preferred first


def split_text(text: str, limit: int) -> list[str]:
    """Non-empty, stripped pieces of `text`, each at most `limit` characters, in reading order."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    return [p for p in (p.strip() for p in _split(text, limit, 0)) if p]


def _split(text: str, limit: int, tier: int) -> list[str]:
    if len(text.strip()) <= limit:
        return [text]
    if tier == len(_BOUNDARIES):  # no boundary left (a URL, unpunctuated CJK): hard cuts
        text = text.strip()
        return [text[i : i + limit] for i in range(0, len(text), limit)]
    pieces: list[str] = []
    for part in _pack(_BOUNDARIES[tier].split(text), limit):
        pieces.extend(_split(part, limit, tier + 1))
    return pieces


def _pack(parts: list[str], limit: int) -> list[str]:
    """Joins consecutive parts greedily while the result stays within `limit` (after stripping)."""
    packed: list[str] = []
    current = ""
    for part in parts:  # an empty part (a split at the very end) adds nothing
        if current and len((current + part).strip()) > limit:
            packed.append(current.strip())
            current = ""
        current += part
    if current.strip():
        packed.append(current.strip())
    return packed
