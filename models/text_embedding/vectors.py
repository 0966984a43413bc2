"""Text embedding translation: Dify texts -> `/v1/embeddings` bodies, answers -> ordered, checked vectors.

Pure functions, no HTTP. The model class (models/text_embedding) sends what these build.
"""

from __future__ import annotations

import array
import base64
import math
import sys
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from dify_plugin.entities.model import EmbeddingInputType
from dify_plugin.errors.model import InvokeBadRequestError

from models._xinference.credentials import XinferenceCredentials
from models._xinference.errors import bad_response
from models._xinference.tokens import estimate_tokens

# The daemon kills a plugin whose stdout line exceeds 5 MiB (PLUGIN_RUNTIME_MAX_BUFFER_SIZE), and one
# embedding answer is one line. A float is printed with up to 17 significant digits, sign, exponent
# and comma: ~25 bytes. Keep one answer under 4 MiB so the envelope and usage fit too.
ANSWER_BUDGET_BYTES = 4 * 1024 * 1024
BYTES_PER_FLOAT = 25
BASE64_FROM_VALUES = 16_384  # numbers in one answer (64 KiB of float32) from which we ask for base64
_NUMBER_TYPES = frozenset({float, int})
_FLOAT_ONLY = frozenset({float})

# The offline estimate is a heuristic: treat a text as possibly over the limit somewhat before the
# estimate reaches it, and leave room for the [CLS]/[SEP]-style special tokens the model adds.
_LIMIT_MARGIN = 0.9
_SPECIAL_TOKENS = 2
# The estimate never prices a character above 2 tokens (the most is a 4-byte letter, such as a rare
# CJK character: 1.6), so a text of up to threshold / 2 characters need not be estimated.
_MAX_TOKENS_PER_CHARACTER = 2


def batches(items: Sequence[str], size: int) -> Iterator[tuple[int, list[str]]]:
    """(offset of the first item, the items) for consecutive slices of at most `size` items."""
    for start in range(0, len(items), size):
        yield start, list(items[start : start + size])


def safe_max_chunks(configured: int, dimensions: int | None) -> int:
    """The admin's batch size, lowered when a whole answer would not fit the daemon's line limit."""
    if not dimensions:
        return configured
    fits = ANSWER_BUDGET_BYTES // (dimensions * BYTES_PER_FLOAT)
    return max(1, min(configured, fits))


def prepare_texts(
    texts: Sequence[str], creds: XinferenceCredentials, input_type: EmbeddingInputType
) -> list[str]:
    """Put the admin's query or document prefix (e.g. E5's "query: ") before every text."""
    prefix = creds.query_prefix if input_type == EmbeddingInputType.QUERY else creds.document_prefix
    return [prefix + text for text in texts]  # an empty prefix leaves them as they are


def task_for(creds: XinferenceCredentials, input_type: EmbeddingInputType) -> str:
    """The `task` value (jina v3/v4 style) for this input type; empty means send none."""
    return creds.query_task if input_type == EmbeddingInputType.QUERY else creds.document_task


def request_body(uid: str, texts: list[str], *, task: str, truncate: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"model": uid, "input": texts}
    if task:
        body["task"] = task
    if truncate:
        # < 0 = "cut to the model's own max_tokens", decided by the server's real tokenizer.
        body["truncate_prompt_tokens"] = -1
    return body


def ask_for_base64(body: dict[str, Any], count: int, dimensions: int | None) -> None:
    """Ask for float32 as base64 when the answer is large. Parsing float text is most of what a large
    answer costs (2.8 MB of text for 32 x 4,096 numbers against 0.7 MB of base64); Xinference 4.x
    honours the option, earlier releases ignore it and send floats, and both are accepted. Small
    answers keep the plain body every OpenAI-style server knows."""
    if dimensions and count * dimensions >= BASE64_FROM_VALUES:
        body["encoding_format"] = "base64"


def over_limit(texts: Sequence[str], limit: int | None) -> list[tuple[int, int]]:
    """(position, estimated tokens) of each text that may exceed `limit` tokens."""
    if not limit:
        return []
    threshold = limit * _LIMIT_MARGIN - _SPECIAL_TOKENS
    found = []
    for position, text in enumerate(texts):
        if (
            len(text) * _MAX_TOKENS_PER_CHARACTER > threshold
            and (tokens := estimate_tokens(text)) > threshold
        ):
            found.append((position, tokens))
    return found


def too_long_error(uid: str, limit: int, position: int, tokens: int, cause: str) -> InvokeBadRequestError:
    return InvokeBadRequestError(
        f"Text {position + 1} of this request is about {tokens} tokens, but embedding model {uid!r} accepts "
        f"at most {limit} tokens per text; {cause}. Lower the maximum chunk length of the knowledge base "
        f"below {limit} tokens."
    )


def parse_vectors(data: Any, count: int, dimensions: int | None, what: str) -> list[list[float]]:
    """The `count` (>= 1) vectors of an embeddings answer, in input order, each checked.

    `dimensions`: the length every vector must have (the description's, or the first vector's).
    """
    items = data.get("data") if isinstance(data, Mapping) else None
    if not isinstance(items, list):
        raise bad_response(what, "no 'data' list in the answer")
    if len(items) != count:
        raise bad_response(what, f"{count} texts were sent but {len(items)} embeddings came back")
    ordered: list[list[float] | None] = [None] * count
    for position, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise bad_response(what, f"item {position} of 'data' is not an object")
        index = item.get("index", position)  # the server returns them by index, in any order
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < count:
            raise bad_response(what, f"embedding index {index!r} is not in 0..{count - 1}")
        if ordered[index] is not None:
            raise bad_response(what, f"two embeddings came back for index {index}")
        ordered[index] = _vector(item.get("embedding"), index, what)
    vectors = [v for v in ordered if v is not None]  # all of them: `count` distinct indices in 0..count-1
    expected = dimensions or len(vectors[0])
    for index, vector in enumerate(vectors):
        if len(vector) != expected:
            raise bad_response(
                what,
                f"the embedding of text {index + 1} has {len(vector)} dimensions, expected {expected} "
                "(the model's declared size, or that of the other vectors); vectors of different sizes "
                "cannot share one knowledge base",
            )
    return vectors


def _vector(value: Any, index: int, what: str) -> list[float]:
    if isinstance(value, str):
        value = _decode_base64(value, index, what)
        if math.isfinite(sum(value)):  # floats by construction: only NaN and infinity to rule out
            return value
    elif isinstance(value, Mapping):
        raise bad_response(
            what,
            f"embedding {index} is sparse (a {{token: weight}} object); Dify stores dense vectors only: "
            "do not enable sparse output (return_sparse) for this model",
        )
    if not isinstance(value, list) or not value:
        raise bad_response(what, f"embedding {index} is not a non-empty list of numbers")
    checked = _finite_numbers(value)
    if checked is not None:
        return checked
    for number in value:  # something is wrong: find what, for the message
        if isinstance(number, bool) or not isinstance(number, int | float) or not _finite(number):
            raise bad_response(what, f"embedding {index} contains {str(number)[:20]!r}, not a finite number")
    return [float(n) for n in value]  # finite numbers whose sum overflowed


def _finite_numbers(value: list) -> list[float] | None:
    """The vector as floats when every entry is a finite int or float, else None; at C speed, since a
    batch holds millions of numbers: one pass for the types (bool is its own type, so it fails), one
    sum, which is NaN or infinite whenever an entry is (and rarely for finite ones: then we look closer)."""
    kinds = set(map(type, value))
    if not kinds <= _NUMBER_TYPES:
        return None
    try:
        if not math.isfinite(sum(value)):
            return None
    except OverflowError:  # an integer too large for a float
        return None
    return value if kinds == _FLOAT_ONLY else [float(n) for n in value]


def _finite(number: float) -> bool:
    try:
        return math.isfinite(number)
    except OverflowError:
        return False


def _decode_base64(value: str, index: int, what: str) -> list[float]:
    """Some servers (4.x) honour encoding_format=base64 after all: little-endian float32, as OpenAI's."""
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError:
        raise bad_response(what, f"embedding {index} is a string that is not base64") from None
    if not raw or len(raw) % 4:
        raise bad_response(what, f"embedding {index} is base64 of {len(raw)} bytes, not of float32 values")
    values = array.array("f", raw)
    if sys.byteorder == "big":
        values.byteswap()
    return values.tolist()


def usage_tokens(data: Mapping[str, Any]) -> int | None:
    """The server's token count for the request (an answer `parse_vectors` accepted), or None if it
    reported none. 0 counts as none: some engines report 0 for real text, and nothing is free to embed."""
    usage = data.get("usage")
    if not isinstance(usage, Mapping):
        return None
    for key in ("prompt_tokens", "total_tokens"):
        value = usage.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None
