"""The shared mixin: error pass-through and mapping, validation messages for the wrong model type."""

import pytest
import requests
import responses
from dify_plugin.errors.model import (
    CredentialsValidateFailedError,
    InvokeAuthorizationError,
    InvokeBadRequestError,
    InvokeConnectionError,
)

from models.rerank.rerank import XinferenceRerankModel
from models.text_embedding.text_embedding import XinferenceTextEmbeddingModel
from tests.helpers import SERVER, fixture_json, http_fixture, raw_credentials


def embedding_model():
    return XinferenceTextEmbeddingModel(model_schemas=[])


def test_typed_errors_pass_through_unchanged():
    err = InvokeAuthorizationError("Xinference answered HTTP 401: check the API Key field")
    assert embedding_model()._transform_invoke_error(err) is err


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (requests.exceptions.ConnectionError("boom"), InvokeConnectionError),
        (requests.exceptions.Timeout("slow"), InvokeConnectionError),
        (CredentialsValidateFailedError("server_url: bad"), InvokeBadRequestError),
        (ValueError("bad value"), InvokeBadRequestError),
    ],
)
def test_foreign_errors_are_mapped(raw, expected):
    mapped = embedding_model()._transform_invoke_error(raw)
    assert type(mapped) is expected
    assert str(raw) in str(mapped)


@pytest.mark.parametrize(
    ("fixture", "uid", "advice"),
    [
        (
            "llm_04_get_model.json",
            "test-llm",
            "is an LLM (abilities: chat, generate, tools), not a Text Embedding "
            "model: add it in Dify as an LLM instead.",
        ),
        (
            "rerank_07_get_model.json",
            "test-rerank",
            "is a rerank model (abilities: rerank), not a Text Embedding "
            "model: add it in Dify as a Rerank model instead.",
        ),
    ],
)
def test_wrong_model_type_says_which_dify_type_to_use(fixture, uid, advice):
    with responses.RequestsMock() as mock:
        mock.get(f"{SERVER}/v1/models/{uid}", json=fixture_json(fixture))
        with pytest.raises(CredentialsValidateFailedError) as info:
            embedding_model().validate_credentials(uid, raw_credentials(model_uid=uid))
    assert str(info.value) == f"Model {uid!r} {advice}"


def test_validation_turns_transport_and_auth_errors_into_credential_errors():
    status, _, body = http_fixture("auth_01_models_no_key.txt")
    with responses.RequestsMock() as mock:
        mock.get(f"{SERVER}/v1/models/test-rerank", status=status, body=body, content_type="application/json")
        with pytest.raises(CredentialsValidateFailedError, match="API Key"):
            XinferenceRerankModel(model_schemas=[]).validate_credentials(
                "m", raw_credentials(model_uid="test-rerank")
            )
    with pytest.raises(CredentialsValidateFailedError, match="could not connect"):
        embedding_model().validate_credentials("m", raw_credentials(server_url="http://127.0.0.1:9"))
    with pytest.raises(CredentialsValidateFailedError, match="server_url"):
        embedding_model().validate_credentials("m", raw_credentials(server_url="nope"))
