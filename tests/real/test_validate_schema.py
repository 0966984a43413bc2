"""validate_model_credentials and get_ai_model_schemas for every model type, against the live server."""

from __future__ import annotations

import pytest

from tests.real.support import UIDS, call, credentials, error_of, ok
from tools.console import payloads

pytestmark = pytest.mark.real

# (Dify model type, role of the launched model)
VALID = [
    ("llm", "llm"),
    ("llm", "llm_base"),
    ("llm", "reasoning"),
    ("llm", "reasoning_default"),
    ("text-embedding", "embed"),
    ("rerank", "rerank"),
]


@pytest.mark.parametrize(("model_type", "role"), VALID)
def test_validate_accepts_the_running_model(plugin, model_type, role):
    chunks = ok(plugin, payloads.validate(model_type, "my-model", credentials(UIDS[role])))
    assert chunks[-1]["result"] is True


def _schema(plugin, model_type: str, role: str) -> dict:
    chunks = ok(plugin, payloads.schema(model_type, "my-model", credentials(UIDS[role])))
    schema = chunks[-1]["model_schema"]
    assert schema is not None, "no schema for a customizable model with credentials"
    assert schema["model"] == "my-model"
    assert schema["model_type"] == model_type
    return schema


def _rules(schema: dict) -> dict[str, dict]:
    return {r["name"]: r for r in schema.get("parameter_rules") or []}


def test_schema_chat_llm_from_the_live_description(plugin):
    schema = _schema(plugin, "llm", "llm")
    props = schema["model_properties"]
    assert props["mode"] == "chat"
    assert props["context_size"] == 2048  # the registered context_length, read from the server
    assert {"tool-call", "stream-tool-call"} <= set(schema.get("features") or [])
    rules = _rules(schema)
    assert rules["max_tokens"]["max"] == 2048
    assert "enable_thinking" not in rules  # not a hybrid model


def test_schema_generate_only_model_is_completion_mode(plugin):
    schema = _schema(plugin, "llm", "llm_base")
    assert schema["model_properties"]["mode"] == "completion"
    assert "tool-call" not in (schema.get("features") or [])


@pytest.mark.parametrize("role", ["reasoning", "reasoning_default"])
def test_schema_hybrid_model_offers_the_thinking_switch(plugin, role):
    schema = _schema(plugin, "llm", role)
    rule = _rules(schema)["enable_thinking"]
    assert rule["type"] == "boolean"
    assert rule.get("default") is None  # unset = the launch default


def test_schema_embedding(plugin):
    props = _schema(plugin, "text-embedding", "embed")["model_properties"]
    assert props["context_size"] == 256  # max_tokens of the registration
    assert props["max_chunks"] >= 1


def test_schema_rerank(plugin):
    _schema(plugin, "rerank", "rerank")


# ---- wrong model type / unknown uid ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("model_type", "role"),
    [("llm", "embed"), ("text-embedding", "llm"), ("rerank", "embed"), ("text-embedding", "rerank")],
)
def test_validate_rejects_a_uid_of_another_model_type(plugin, model_type, role):
    err = error_of(plugin, payloads.validate(model_type, "my-model", credentials(UIDS[role])))
    assert err["error_type"] == "CredentialsValidateFailedError"
    assert UIDS[role] in err["message"]


@pytest.mark.parametrize("model_type", ["llm", "text-embedding", "rerank"])
def test_validate_unknown_uid(plugin, model_type):
    err = error_of(plugin, payloads.validate(model_type, "my-model", credentials("no-such-model-uid")))
    assert err["error_type"] == "CredentialsValidateFailedError"
    assert "no-such-model-uid" in err["message"]


def test_invoke_unknown_uid_is_a_typed_error(plugin):
    creds = credentials("no-such-model-uid")
    embed_err = error_of(plugin, payloads.embed("m", creds, ["hello"]))
    rerank_err = error_of(plugin, payloads.rerank("m", creds, "q", ["a", "b"]))
    llm = call(plugin, payloads.invoke_llm("m", creds, [{"role": "user", "content": "Hello"}], stream=False))
    for err in (embed_err, rerank_err, llm.error):
        assert err is not None
        assert err["error_type"] == "InvokeBadRequestError", err
        assert "no-such-model-uid" in err["message"]
