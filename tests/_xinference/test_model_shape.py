"""One shape for all five model types: which models each takes (`is_<type>` in model_info.py), the
schema built by the mixin with one fallback when the server cannot describe the model, and the
description at call time checked for the kind by every type whose request depends on it."""

from collections.abc import Iterator

import pytest
import responses
from dify_plugin.entities.model import AIModelEntity, FetchFrom, ModelType
from dify_plugin.entities.model.message import UserPromptMessage
from dify_plugin.errors.model import InvokeBadRequestError

from models._xinference import model_info
from models._xinference.base import XinferenceModelMixin
from models._xinference.process_state import reset_process_state
from models.llm.llm import XinferenceLargeLanguageModel
from models.rerank.rerank import XinferenceRerankModel
from models.speech2text.speech2text import XinferenceSpeech2TextModel
from models.text_embedding.text_embedding import XinferenceTextEmbeddingModel
from models.tts.tts import XinferenceTTSModel
from tests.helpers import SERVER, fixture_json, raw_credentials

ALL_TYPES = [
    XinferenceLargeLanguageModel,
    XinferenceTextEmbeddingModel,
    XinferenceRerankModel,
    XinferenceSpeech2TextModel,
    XinferenceTTSModel,
]
DOWN = "http://127.0.0.1:9"  # nothing listens on the discard port


@pytest.mark.parametrize("model_class", ALL_TYPES)
def test_every_type_takes_its_kind_from_the_one_module(model_class):
    assert model_class.kind in vars(model_info).values()
    assert model_class.kind.accepts.__module__ == model_info.__name__


@pytest.mark.parametrize("model_class", ALL_TYPES)
def test_every_schema_is_built_by_the_mixin(model_class):
    assert model_class.get_customizable_model_schema is XinferenceModelMixin.get_customizable_model_schema


@pytest.mark.parametrize("model_class", ALL_TYPES)
@pytest.mark.parametrize("credentials", [raw_credentials(server_url=DOWN), {"model_uid": "m"}])
def test_a_schema_while_the_server_is_down_or_the_form_incomplete_is_the_fallback(model_class, credentials):
    schema = model_class(model_schemas=[]).get_customizable_model_schema("m", credentials)
    assert isinstance(schema, AIModelEntity)
    assert schema.model == "m" and schema.label.en_us == "m"  # Dify lists the model under its name
    assert schema.fetch_from == FetchFrom.CUSTOMIZABLE_MODEL  # a model the admin added, not a preset


def _rich_description(model_type: str) -> dict:
    """A description that would change every schema if it were used: abilities, limits, voices."""
    return {
        "model_type": model_type,
        "model_name": "Kokoro-82M",
        "model_family": "Kokoro",
        "model_ability": ["chat", "tools", "vision", "hybrid", "text2audio"],
        "context_length": 777,
        "max_tokens": 777,
    }


@pytest.mark.parametrize("model_class", [c for c in ALL_TYPES if c is not XinferenceSpeech2TextModel])
def test_a_description_of_another_kind_gives_the_fallback_schema(model_class):
    other = "rerank" if model_class is XinferenceTextEmbeddingModel else "embedding"
    uid = "uid-of-another-kind"
    creds = raw_credentials(model_uid=uid)
    with responses.RequestsMock() as mock:
        mock.get(f"{SERVER}/v1/models/{uid}", json=_rich_description(other))
        built = model_class(model_schemas=[]).get_customizable_model_schema("m", creds)
    reset_process_state()
    with responses.RequestsMock() as mock:
        mock.get(f"{SERVER}/v1/models/{uid}", status=404, json={"detail": "Model not found"})
        fallback = model_class(model_schemas=[]).get_customizable_model_schema("m", creds)
    assert built == fallback


def _invoke(model_class, creds):
    model = model_class(model_schemas=[])
    if model_class is XinferenceLargeLanguageModel:
        return model.invoke("m", creds, [UserPromptMessage(content="hi")], {}, stream=False)
    if model_class is XinferenceTextEmbeddingModel:
        return model.invoke("m", creds, ["hi"])
    if model_class is XinferenceRerankModel:
        return model.invoke("m", creds, "q", ["d"])
    return model.invoke("m", "tenant", creds, "Hello.", "alloy")


@pytest.mark.parametrize(
    "model_class",
    [XinferenceLargeLanguageModel, XinferenceTextEmbeddingModel, XinferenceRerankModel, XinferenceTTSModel],
)
def test_a_call_on_a_uid_relaunched_as_another_kind_says_so_before_any_request(model_class):
    other = (
        "rerank_07_get_model.json" if model_class is not XinferenceRerankModel else "llm_04_get_model.json"
    )
    uid = "relaunched"
    with responses.RequestsMock() as mock:
        mock.get(f"{SERVER}/v1/models/{uid}", json=fixture_json(other))
        with pytest.raises(InvokeBadRequestError, match=f"Model '{uid}' is an? .*not an? "):
            result = _invoke(model_class, raw_credentials(model_uid=uid))
            if isinstance(result, Iterator):  # the SDK's LLM and TTS answers are generators
                list(result)
        assert [c.request.method for c in mock.calls] == ["GET"]  # the call itself was never sent


def test_one_uid_added_as_two_types_or_under_two_names_gets_a_schema_of_each():
    creds = raw_credentials(server_url=DOWN)
    as_llm = XinferenceLargeLanguageModel(model_schemas=[]).get_customizable_model_schema("a", creds)
    as_embedding = XinferenceTextEmbeddingModel(model_schemas=[]).get_customizable_model_schema("a", creds)
    renamed = XinferenceTextEmbeddingModel(model_schemas=[]).get_customizable_model_schema("b", creds)
    assert (as_llm.model_type, as_embedding.model_type) == (ModelType.LLM, ModelType.TEXT_EMBEDDING)
    assert (as_embedding.model, renamed.model) == ("a", "b")


def test_a_chat_goes_on_with_the_admins_settings_while_the_model_cannot_be_described():
    with responses.RequestsMock() as mock:
        mock.get(f"{SERVER}/v1/models/test-llm", status=500, json={"detail": "describe failed"})
        mock.post(f"{SERVER}/v1/chat/completions", json=fixture_json("llm_05_chat_nonstream.json"))
        chunks = list(
            XinferenceLargeLanguageModel(model_schemas=[]).invoke(
                "m", raw_credentials(), [UserPromptMessage(content="hi")], {}, stream=False
            )
        )
    answer = fixture_json("llm_05_chat_nonstream.json")["choices"][0]["message"]["content"]
    assert "".join(c.delta.message.content for c in chunks) == answer
