"""Joining the audio of several pieces: WAV headers fixed, other formats passed through."""

import struct

import pytest

from models.tts.joining import joined
from tests.tts.audio_fakes import wav_file


def chunks_of(pieces, size):
    """(index, bytes) pairs, each piece cut into `size`-byte chunks as a stream would deliver it."""
    return [(i, piece[j : j + size]) for i, piece in enumerate(pieces) for j in range(0, len(piece), size)]


@pytest.mark.parametrize("fmt", ["mp3", "aac", "pcm", "flac", "ogg"])
def test_non_wav_bytes_pass_through_unchanged(fmt):
    pieces = [b"ID3\x04first", b"ID3\x04second"]
    assert b"".join(joined(fmt, chunks_of(pieces, 3), 2)) == b"".join(pieces)


def test_single_wav_piece_is_untouched():
    wav = wav_file(b"\x01\x02" * 10)
    assert b"".join(joined("wav", [(0, wav)], 1)) == wav


@pytest.mark.parametrize("chunk_size", [1, 7, 44, 1000])
def test_several_wav_pieces_become_one_wav_with_one_header(chunk_size):
    samples = [b"\x01\x00" * 30, b"\x02\x00" * 20, b"\x03\x00" * 10]
    out = b"".join(joined("wav", chunks_of([wav_file(s) for s in samples], chunk_size), 3))
    assert out.count(b"RIFF") == 1
    assert out.count(b"WAVE") == 1
    header_end = out.index(b"data") + 8
    assert out[header_end:] == b"".join(samples)  # every sample, in order, nothing else
    assert struct.unpack_from("<I", out, 4)[0] == 0xFFFFFFFF  # length "unknown": read to the end
    assert struct.unpack_from("<I", out, header_end - 4)[0] == 0xFFFFFFFF
    assert out[12 : header_end - 8] == wav_file(b"")[12:-8]  # the fmt chunk is kept as it was


def test_wav_with_extra_chunks_before_data():
    list_chunk = b"LIST" + struct.pack("<I", 5) + b"abcde" + b"\x00"  # odd size: padded
    first = wav_file(b"\x01\x00")
    second = wav_file(b"\x02\x00")
    second = second[:36] + list_chunk + second[36:]
    out = b"".join(joined("wav", chunks_of([first, second], 5), 2))
    assert out.endswith(b"\x01\x00\x02\x00")
    assert b"LIST" not in out


def test_bytes_that_are_not_wav_are_not_held_back():
    out = b"".join(joined("wav", [(0, b"garbage bytes"), (1, b"more")], 2))
    assert out == b"garbage bytesmore"


@pytest.mark.parametrize("chunk_size", [5, 1000])
@pytest.mark.parametrize("magic", [b"RIFX", b"RIFF"], ids=["big-endian RIFX", "RIFF but WEBP"])
def test_riff_files_that_are_not_little_endian_wave_pass_through_whole(magic, chunk_size):
    # only a RIFF/WAVE header is understood; any other file must reach Dify byte for byte, not lose a header
    kind = b"WAVE" if magic == b"RIFX" else b"WEBP"
    other = magic + struct.pack("<I", 20) + kind + b"data" + struct.pack("<I", 4) + b"\x05\x06\x07\x08"
    first = wav_file(b"\x01\x00")
    out = b"".join(joined("wav", chunks_of([first, other], chunk_size), 2))
    assert out[44:] == b"\x01\x00" + other


def test_a_silent_first_piece_still_gives_the_stream_its_header():
    # a piece that synthesised no samples ends right after its "data" chunk header
    out = b"".join(joined("wav", [(0, wav_file(b"")), (1, wav_file(b"\x01\x00"))], 2))
    assert out[:4] == b"RIFF" and out[40:44] == b"\xff\xff\xff\xff"
    assert out[44:] == b"\x01\x00"


def _wav_with_metadata(metadata_bytes, samples):
    """A WAV whose fmt and LIST chunks come to `metadata_bytes` + 8 before its data chunk."""
    head = wav_file(b"")[:36]  # RIFF, WAVE and the fmt chunk
    list_chunk = b"LIST" + struct.pack("<I", metadata_bytes - 44) + b"\x00" * (metadata_bytes - 44)
    return head + list_chunk, b"data" + struct.pack("<I", len(samples)) + samples


def test_a_header_of_up_to_64_kib_is_waited_for_and_dropped_from_later_pieces():
    header, data = _wav_with_metadata(64 * 1024, b"\x02\x00")
    assert len(header) == 64 * 1024  # the first chunk is all header, no "data" yet
    out = b"".join(joined("wav", [(0, wav_file(b"\x01\x00")), (1, header), (1, data)], 2))
    assert out[44:] == b"\x01\x00\x02\x00"


def test_a_header_longer_than_64_kib_is_given_up_on_and_passed_through():
    header, data = _wav_with_metadata(64 * 1024 + 2, b"\x02\x00")
    out = b"".join(joined("wav", [(0, wav_file(b"\x01\x00")), (1, header), (1, data)], 2))
    assert out[44:] == b"\x01\x00" + header + data
