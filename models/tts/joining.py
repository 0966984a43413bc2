"""Joining the audio of several synthesised pieces into one playable stream.

Each piece comes back from Xinference as a complete file. For mp3, aac (ADTS) and raw pcm, files
laid end to end still play as one (frames are self-contained). WAV is different: a second RIFF
header in the middle is heard as a click, and players stop after the length the first header
declares — the "garbled audio" users reported. So for WAV the first header is kept with its
lengths set to "unknown" (0xFFFFFFFF, as streaming WAV writers do) and later headers are dropped.
FLAC and Ogg/Opus cannot be joined like this at all; for them the text is not split.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator

JOINABLE_FORMATS = frozenset({"mp3", "aac", "pcm", "wav"})
_UNKNOWN_LENGTH = b"\xff\xff\xff\xff"
_MAX_HEADER = 64 * 1024  # a WAV header is ~44 bytes; give up looking for "data" after this


def joined(audio_format: str, chunks: Iterable[tuple[int, bytes]], pieces: int) -> Iterator[bytes]:
    """Yields the audio of `pieces` pieces, given as (piece index, bytes) in order, as one stream."""
    if audio_format != "wav" or pieces < 2:
        for _, chunk in chunks:
            yield chunk
        return
    joiner = _WavJoiner()
    for index, chunk in chunks:
        out = joiner.feed(index, chunk)
        if out:
            yield out


class _WavJoiner:
    _buffer: bytes  # the current piece's bytes while its header is still arriving
    _in_data: bool  # the current piece's header is done: its bytes pass straight through

    def __init__(self) -> None:
        self._index: int | None = None  # no piece yet: the first feed starts one

    def feed(self, index: int, chunk: bytes) -> bytes:
        if index != self._index:  # a new piece starts with its own header
            self._index, self._buffer, self._in_data = index, b"", False
        if self._in_data:
            return chunk
        self._buffer += chunk
        data_start = _data_payload_offset(self._buffer)
        if data_start is None:
            if len(self._buffer) > _MAX_HEADER or not _may_become_wav(self._buffer):
                return self._pass_through()  # not a WAV we understand: do not hold audio back
            return b""
        self._in_data = True
        header, rest = self._buffer[:data_start], self._buffer[data_start:]
        if index == 0:
            return _unknown_lengths(header) + rest
        return rest

    def _pass_through(self) -> bytes:
        self._in_data = True
        return self._buffer  # a new piece starts a new buffer


def _may_become_wav(buffer: bytes) -> bool:
    """Whether these first bytes can still grow into a RIFF/WAVE header (RIFX, WEBP, AVI cannot)."""
    return b"RIFF".startswith(buffer[:4]) and b"WAVE".startswith(buffer[8:12])


def _data_payload_offset(buffer: bytes) -> int | None:
    """Offset of the first audio byte of a RIFF/WAVE file, once the header has fully arrived."""
    if buffer[:4] != b"RIFF" or buffer[8:12] != b"WAVE":  # also None while fewer than 12 bytes are in
        return None
    pos = 12
    while pos + 8 <= len(buffer):
        chunk_id = buffer[pos : pos + 4]
        (size,) = struct.unpack_from("<I", buffer, pos + 4)
        if chunk_id == b"data":
            return pos + 8
        pos += 8 + size + (size & 1)  # chunks are padded to even sizes
    return None


def _unknown_lengths(header: bytes) -> bytes:
    """The header with the RIFF and data lengths set to 'unknown, read to the end'."""
    return header[:4] + _UNKNOWN_LENGTH + header[8:-4] + _UNKNOWN_LENGTH
