"""The LLM schema: mode and validation from the live description; the schema while the server is
down, the admin's overrides, switch credentials as booleans or strings, and the schema cache."""

from __future__ import annotations

import pytest
import requests
import responses
from dify_plugin.entities.model import ModelPropertyKey
from dify_plugin.errors.model import CredentialsValidateFailedError

from tests.helpers import SERVER, fixture_json, http_fixture
from tests.llm.schema_support import FALLBACK_CONTEXT_SIZE, TOOLS, F, rules, schema
from tests.llm.support import add_description, creds, model

# ---- 1. mode and validation from the live model ---------------------------------------------


def test_chat_ability_means_chat_mode_with_the_reported_context_and_tool_features():
    with responses.RequestsMock() as mock:
        add_description(mock)  # generate, chat, tools; context_length 2048
        entity = schema()
    assert entity.model_properties[ModelPropertyKey.MODE] == "chat"
    assert entity.model_properties[ModelPropertyKey.CONTEXT_SIZE] == 2048
    assert entity.features == [*TOOLS, F.STRUCTURED_OUTPUT]
    assert entity.model == "test-llm"


def test_generate_only_model_is_completion_mode_without_chat_features():
    with responses.RequestsMock() as mock:
        add_description(mock, "test-llm-base")
        entity = schema("test-llm-base")
    assert entity.model_properties[ModelPropertyKey.MODE] == "completion"
    assert entity.features == []
    assert {"response_format", "enable_thinking"}.isdisjoint(rules(entity))


@pytest.mark.parametrize("uid", ["test-llm", "test-llm-base", "test-reasoning"])
def test_validation_accepts_chat_and_generate_models(uid):
    with responses.RequestsMock() as mock:
        add_description(mock, uid)
        model().validate_credentials(uid, creds(uid))


@pytest.mark.parametrize(
    ("fixture", "dify_type"),
    [
        ("embed_07_get_model.json", "Text Embedding"),
        ("rerank_07_get_model.json", "Rerank"),
    ],
)
def test_validation_names_the_dify_type_for_other_kinds_of_model(fixture, dify_type):
    with responses.RequestsMock() as mock:
        mock.get(f"{SERVER}/v1/models/test-llm", json=fixture_json(fixture))
        with pytest.raises(CredentialsValidateFailedError) as err:
            model().validate_credentials("m", creds())
    assert f"add it in Dify as a {dify_type} model" in str(err.value)


@pytest.mark.parametrize(
    ("abilities", "dify_type"), [(["audio2text"], "Speech2text"), (["text2audio"], "TTS")]
)
def test_validation_names_the_dify_type_for_audio_models(abilities, dify_type):
    with responses.RequestsMock() as mock:
        mock.get(f"{SERVER}/v1/models/test-llm", json={"model_type": "audio", "model_ability": abilities})
        with pytest.raises(CredentialsValidateFailedError, match=f"as a {dify_type} model"):
            model().validate_credentials("m", creds())


@pytest.mark.parametrize(("abilities", "listed"), [(["vision", "audio"], "audio, vision"), ([], "none")])
def test_validation_rejects_an_llm_that_can_neither_chat_nor_generate(abilities, listed):
    with responses.RequestsMock() as mock:
        add_description(mock, model_ability=abilities)
        with pytest.raises(CredentialsValidateFailedError) as refused:
            model().validate_credentials("m", creds())
    assert str(refused.value) == (
        "Model 'test-llm' is an LLM that reports neither the chat nor the generate ability "
        f"(abilities: {listed}), so Dify cannot call it"
    )


@pytest.mark.parametrize("abilities", [["chat"], ["generate"]])
def test_validation_accepts_an_llm_that_can_chat_or_generate(abilities):
    with responses.RequestsMock() as mock:
        add_description(mock, model_ability=abilities)
        model().validate_credentials("m", creds())


def test_validation_reports_a_wrong_key_as_a_credentials_error():
    status, headers, body = http_fixture("auth_10_chat_bad_key.txt")
    with responses.RequestsMock() as mock:
        mock.get(f"{SERVER}/v1/models/test-llm", status=status, headers=headers, body=body)
        with pytest.raises(CredentialsValidateFailedError, match="401"):
            model().validate_credentials("m", creds(api_key="xf-wrong"))


def test_validation_reads_the_truth_even_when_a_description_is_cached():
    with responses.RequestsMock() as mock:
        add_description(mock)
        schema()  # caches "LLM"
        mock.replace(
            responses.GET, f"{SERVER}/v1/models/test-llm", json=fixture_json("embed_07_get_model.json")
        )
        with pytest.raises(CredentialsValidateFailedError, match="Text Embedding"):
            model().validate_credentials("m", creds())


# ---- 1. the schema without the server, and the overrides ------------------------------------


def test_schema_request_while_the_server_is_down_answers_from_safe_defaults():
    with responses.RequestsMock() as mock:
        mock.get(f"{SERVER}/v1/models/test-llm", body=requests.ConnectionError("refused"))
        entity = schema()
    assert entity.model_properties[ModelPropertyKey.MODE] == "chat"
    assert entity.model_properties[ModelPropertyKey.CONTEXT_SIZE] == FALLBACK_CONTEXT_SIZE
    assert entity.features == [F.STRUCTURED_OUTPUT]  # every chat model
    assert rules(entity)["max_tokens"].max == FALLBACK_CONTEXT_SIZE


def test_schema_while_the_server_is_down_uses_the_admins_overrides():
    with responses.RequestsMock() as mock:
        mock.get(f"{SERVER}/v1/models/test-llm", status=503, json={"detail": "loading"})
        entity = schema(
            context_size="32768",
            function_calling="supported",
            vision="supported",
            thinking="supported",
            structured_output="supported",
        )
    assert entity.model_properties[ModelPropertyKey.CONTEXT_SIZE] == 32768
    assert entity.features == [*TOOLS, F.VISION, F.STRUCTURED_OUTPUT]
    assert {"enable_thinking", "response_format", "json_schema"} <= set(rules(entity))


def test_schema_with_credentials_that_do_not_parse_still_answers():
    entity = model().get_customizable_model_schema("m", {"server_url": "not a url", "model_uid": "x"})
    assert entity.model_properties[ModelPropertyKey.MODE] == "chat"


def test_overrides_pin_what_the_server_reports_wrongly():
    with responses.RequestsMock() as mock:
        add_description(mock, "test-reasoning", model_ability=["chat", "tools", "hybrid", "vision"])
        entity = schema(
            "test-reasoning",
            context_size="8192",
            function_calling="unsupported",
            vision="unsupported",
            thinking="unsupported",
        )
    assert entity.model_properties[ModelPropertyKey.CONTEXT_SIZE] == 8192
    assert entity.features == [F.STRUCTURED_OUTPUT]  # every chat model
    assert "enable_thinking" not in rules(entity)
    assert rules(entity)["max_tokens"].max == 8192


def test_switch_credentials_may_arrive_as_booleans_or_strings():
    with responses.RequestsMock() as mock:
        add_description(mock)
        assert schema(tls_verify=False).features == [*TOOLS, F.STRUCTURED_OUTPUT]
        assert schema(tls_verify="true").features == [*TOOLS, F.STRUCTURED_OUTPUT]


def test_schema_is_cached_per_server_uid_and_key():
    with responses.RequestsMock() as mock:
        add_description(mock)
        for _ in range(5):
            schema()
        schema(api_key="xf-another-key")  # another key: its own entry
        assert len(mock.calls) == 2
