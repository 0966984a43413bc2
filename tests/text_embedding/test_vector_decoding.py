"""The fast vector paths (checks at C speed, base64 float32 for large answers) decide exactly as the
per-number checks did: every bad number is still an error, every good vector comes back as floats."""

from __future__ import annotations

import base64
import json
import math
import random
import struct

import pytest
import responses
from dify_plugin.entities.model import EmbeddingInputType
from dify_plugin.errors.model import InvokeServerUnavailableError

from models._xinference.process_state import reset_process_state
from models.text_embedding.text_embedding import XinferenceTextEmbeddingModel
from models.text_embedding.vectors import BASE64_FROM_VALUES, parse_vectors
from tests.helpers import SERVER, fixture_json, raw_credentials

UID = "test-embed"
WHAT = "embeddings on 'test-embed'"
REAL_VECTOR = fixture_json("embed_05_embeddings_single.json")["data"][0]["embedding"]  # 384 floats
BASE64_VECTOR = fixture_json("embed_06_embeddings_base64.json")["data"][0]["embedding"]


def answer(*vectors) -> dict:
    return {"object": "list", "data": [{"index": i, "embedding": v} for i, v in enumerate(vectors)]}


def parsed(*vectors, dimensions=None):
    # through JSON, as the client hands answers over (NaN and huge integers included)
    data = json.loads(json.dumps(answer(*vectors)))
    return parse_vectors(data, len(vectors), dimensions, WHAT)


def float32_base64(values) -> str:
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()


def test_a_large_vector_of_floats_comes_back_equal():
    vector = [random.Random(7).uniform(-1, 1) for _ in range(4096)]
    assert parsed(vector, vector) == [vector, vector]


def test_integers_come_back_as_floats():
    (vector,) = parsed([1, 0, -2, 0.5])
    assert vector == [1.0, 0.0, -2.0, 0.5]
    assert all(type(x) is float for x in vector)


def test_finite_values_whose_sum_overflows_are_accepted():
    assert parsed([1e308, 1e308, 1.0]) == [[1e308, 1e308, 1.0]]


@pytest.mark.parametrize(
    ("bad", "shown"),
    [
        (math.nan, "nan"),
        (math.inf, "inf"),
        (-math.inf, "-inf"),
        (True, "True"),
        (False, "False"),
        (None, "None"),
        ("0.5", "0.5"),
        ([0.5], "[0.5]"),
        (10**400, "1000000000"),
    ],
)
def test_one_bad_number_in_4096_is_an_error_naming_it(bad, shown):
    vector = [0.01] * 4096
    vector[3000] = bad
    with pytest.raises(InvokeServerUnavailableError, match="not a finite number") as err:
        parsed(REAL_VECTOR, vector)
    assert "embedding 1 contains" in str(err.value)
    assert shown in str(err.value)


def test_nan_and_infinity_in_base64_float32_are_errors():
    for bad in (math.nan, math.inf):
        values = [0.25] * 100
        values[42] = bad
        with pytest.raises(InvokeServerUnavailableError, match="not a finite number"):
            parsed(float32_base64(values))


def test_base64_float32_decodes_to_the_same_numbers_as_struct():
    values = [random.Random(3).uniform(-1, 1) for _ in range(1024)]
    expected = list(struct.unpack("<1024f", struct.pack("<1024f", *values)))
    assert parsed(float32_base64(values)) == [expected]


def test_recorded_base64_and_float_answers_mix_in_one_batch():
    vectors = parsed(BASE64_VECTOR, REAL_VECTOR, dimensions=384)
    assert vectors[0] == pytest.approx(REAL_VECTOR, abs=1e-7)
    assert vectors[1] == REAL_VECTOR


# ---- what is asked for ---------------------------------------------------------------------


def _invoke_with(mock, dimensions: int, texts: int, reply) -> tuple[list[dict], list]:
    reset_process_state()
    description = {**fixture_json("embed_07_get_model.json"), "dimensions": dimensions}
    mock.get(f"{SERVER}/v1/models/{UID}", json=description)
    bodies: list[dict] = []

    def callback(request):
        body = json.loads(request.body)
        bodies.append(body)
        return 200, {}, json.dumps(answer(*[reply(body) for _ in body["input"]]))

    url = f"{SERVER}/v1/embeddings"
    mock.add_callback(responses.POST, url, callback=callback, content_type="application/json")
    creds = raw_credentials(model_uid=UID, max_chunks="32")
    model = XinferenceTextEmbeddingModel(model_schemas=[])
    result = model.invoke(UID, creds, [f"t{i}" for i in range(texts)], None, EmbeddingInputType.DOCUMENT)
    return bodies, result.embeddings


def test_large_answers_ask_for_base64_and_a_server_that_honours_it_is_decoded():
    values = [0.5, -0.25] * 2048

    def reply(body):
        return float32_base64(values) if body.get("encoding_format") == "base64" else values

    with responses.RequestsMock() as mock:
        bodies, vectors = _invoke_with(mock, 4096, 35, reply)
    assert [b.get("encoding_format") for b in bodies] == ["base64", None]  # 32 x 4,096 yes; 3 x 4,096 no
    assert 32 * 4096 >= BASE64_FROM_VALUES > 3 * 4096
    assert vectors == [values] * 35


def test_a_server_that_ignores_base64_and_sends_floats_is_accepted():
    values = [0.125] * 4096
    with responses.RequestsMock() as mock:
        bodies, vectors = _invoke_with(mock, 4096, 32, lambda body: values)
    assert bodies[0]["encoding_format"] == "base64"
    assert vectors == [values] * 32


def test_small_answers_keep_the_plain_body():
    with responses.RequestsMock() as mock:
        bodies, _ = _invoke_with(mock, 384, 32, lambda body: REAL_VECTOR)
    assert "encoding_format" not in bodies[0]
