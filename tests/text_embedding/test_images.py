"""Images from Dify -> data URIs: format sniffing from magic bytes, pass-through, and clear refusals."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from dify_plugin.errors.model import InvokeBadRequestError

from models._xinference import images
from models._xinference.images import image_data_uri, sniff_format

ASSETS = Path(__file__).parents[1] / "assets" / "images"
FILES = {
    "red-square.png": "png",
    "blue-square.jpg": "jpeg",
    "green-square.gif": "gif",
    "gray-bar.webp": "webp",
    "yellow-bar.bmp": "bmp",
}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize(("name", "expected"), FILES.items())
def test_real_files_are_sniffed_and_get_their_mime_type(name, expected):
    raw = (ASSETS / name).read_bytes()
    assert sniff_format(raw[:16]) == expected
    uri = image_data_uri(b64(raw), "item 1 (an image)")
    assert uri == f"data:image/{expected};base64,{b64(raw)}"


def test_both_gif_versions_and_riff_that_is_not_webp():
    assert sniff_format(b"GIF87a\x01\x00") == "gif"
    assert sniff_format(b"GIF89a\x01\x00") == "gif"  # what most tools write today
    assert sniff_format(b"RIFF\x10\x00\x00\x00WAVEfmt ") is None  # a WAV file is RIFF too


def test_existing_data_uri_is_passed_through():
    raw = (ASSETS / "red-square.png").read_bytes()
    uri = f"data:image/png;base64,{b64(raw)}"
    assert image_data_uri(uri, "item 1 (an image)") == uri


def test_line_breaks_in_base64_are_dropped():
    encoded = b64((ASSETS / "blue-square.jpg").read_bytes())
    wrapped = "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
    assert image_data_uri(wrapped, "x") == f"data:image/jpeg;base64,{encoded}"


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("not base64 at all!", "is not base64-encoded data"),
        (
            b64(b"%PDF-1.7 a document"),
            "is not a PNG, JPEG, GIF, WebP or BMP image (it starts with 25 50 44 46",
        ),
        ("", "is empty"),
        ("data:text/plain;base64,aGVsbG8=", "is a data URI of another kind"),
        ("data:image/png;base64,@@@@", "is not base64-encoded data"),
        ("data:image/png;base64," + b64(b"plain text"), "is not a PNG"),
    ],
)
def test_bad_images_name_the_item(content, needle):
    with pytest.raises(InvokeBadRequestError) as info:
        image_data_uri(content, "item 3 (an image)")
    assert str(info.value).startswith("Item 3 (an image) ")
    assert needle in str(info.value)


def test_an_image_of_exactly_the_limit_passes():
    raw = b"\x89PNG\r\n\x1a\n" + bytes(images.MAX_IMAGE_BYTES - 8 - 2)  # base64 rounds up to 3 bytes
    assert image_data_uri(b64(raw), "item 2 (an image)").startswith("data:image/png;base64,")


def test_default_limit_is_ten_megabytes_and_message_says_so():
    raw = b"\x89PNG\r\n\x1a\n" + bytes(11 * 1024 * 1024)
    with pytest.raises(InvokeBadRequestError, match=r"is 11\.0 MB; at most 10 MB per image"):
        image_data_uri(b64(raw), "the query (an image)")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (" \n", "is empty; expected the base64 of an image file."),
        (
            "data:application/pdf;base64,JVBERi0xLjcgYSBkb2N1bWVudCB3aXRoIGEgbG9uZyBuYW1l",
            "is a data URI of another kind ('data:application/pdf;base64,JVBERi0xLjcg'…); "
            "expected data:image/…;base64,.",
        ),
        (
            "not base64!",
            "is not base64-encoded data; expected the base64 of a PNG, JPEG, GIF, WebP or BMP file.",
        ),
        (
            b64(b"%PDF-1.7 a document"),
            "is not a PNG, JPEG, GIF, WebP or BMP image (it starts with 25 50 44 46 2d 31 2e 37); "
            "convert it to one of these formats.",
        ),
        (
            "data:image/png;base64,",
            "is not a PNG, JPEG, GIF, WebP or BMP image (it starts with nothing); "
            "convert it to one of these formats.",
        ),
    ],
)
def test_each_refusal_says_what_is_wrong_and_what_to_send(content, message):
    """The whole message a knowledge-base admin reads: the item, its first bytes (at most 8), the fix."""
    with pytest.raises(InvokeBadRequestError) as info:
        image_data_uri(content, "item 3 (an image)")
    assert str(info.value) == f"Item 3 (an image) {message}"


def test_an_image_too_large_is_measured_in_megabytes_of_1024_kib():
    raw = b"\x89PNG\r\n\x1a\n" + bytes(10_543_431 - 8)  # 10.055 MiB: 10.1 MB, not 10.0
    with pytest.raises(InvokeBadRequestError) as info:
        image_data_uri(b64(raw), "the query (an image)")
    assert str(info.value) == (
        "The query (an image) is 10.1 MB; at most 10 MB per image is sent. Use a smaller image."
    )
