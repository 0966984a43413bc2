"""Images from Dify as Xinference wants them: `data:image/<format>;base64,…` URIs, checked first.

Dify (≥ 1.11, multimodal knowledge bases) sends the raw base64 of the file, without a `data:`
prefix and without a MIME type. Xinference decodes an image only when it is a data URI and embeds
any other string as *text* (a silent, wrong vector), so the format is read from the magic bytes and
anything that is not a known image is refused here, naming the item. Used by embedding and rerank.
"""

from __future__ import annotations

import base64
import binascii
import re

from dify_plugin.errors.model import InvokeBadRequestError

# Dify's own upload limit for knowledge-base images is 2 MB; leave room for admins who raise it, but
# refuse what no embedding request should carry (the server would spend the timeout decoding it).
MAX_IMAGE_BYTES = 10 * 1024 * 1024

_DATA_URI = re.compile(r"data:image/([a-z0-9.+-]+);base64,", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")


def sniff_format(head: bytes) -> str | None:
    """The image format (png, jpeg, gif, webp, bmp) of bytes that start with `head`, or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"BM"):
        return "bmp"
    return None


def image_data_uri(content: str, what: str) -> str:
    """A data URI for one image Dify sent; `what` names it in errors, e.g. "item 3 (an image)".

    Raw base64 gets a prefix with the sniffed MIME type; an existing `data:image/…;base64,` URI is
    passed through after the same checks.
    """
    if not isinstance(content, str) or not content.strip():
        raise _bad(what, "is empty; expected the base64 of an image file")
    text = content.strip()
    prefix = ""
    match = _DATA_URI.match(text)
    if match:
        prefix, text = match.group(0), text[match.end() :]
    elif text[:5].lower() == "data:":
        raise _bad(what, f"is a data URI of another kind ({text[:40]!r}…); expected data:image/…;base64,")
    payload = _WHITESPACE.sub("", text)
    if len(payload) * 3 // 4 > MAX_IMAGE_BYTES:
        megabytes = len(payload) * 3 / 4 / 1024 / 1024
        raise _bad(
            what,
            f"is {megabytes:.1f} MB; at most {MAX_IMAGE_BYTES // 1024 // 1024} MB per image is sent. "
            "Use a smaller image",
        )
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise _bad(
            what, "is not base64-encoded data; expected the base64 of a PNG, JPEG, GIF, WebP or BMP file"
        ) from None
    image_format = sniff_format(raw)
    if image_format is None:
        raise _bad(
            what,
            f"is not a PNG, JPEG, GIF, WebP or BMP image (it starts with {raw[:8].hex(' ') or 'nothing'}); "
            "convert it to one of these formats",
        )
    return (prefix or f"data:image/{image_format};base64,") + payload


def _bad(what: str, problem: str) -> InvokeBadRequestError:
    return InvokeBadRequestError(f"{what[:1].upper()}{what[1:]} {problem}.")
