"""What the LLM schema tests share: the schema Dify asks for, read through the SDK entry point, and the
feature and fallback constants the assertions compare with."""

from __future__ import annotations

from dify_plugin.entities.model.schema import ModelFeature

from tests.llm.support import creds, model

F = ModelFeature
TOOLS = [F.TOOL_CALL, F.MULTI_TOOL_CALL, F.STREAM_TOOL_CALL]

FALLBACK_CONTEXT_SIZE = 4096  # documented (README "Adding a model"): used while the server is silent


def schema(uid="test-llm", **cred_overrides):
    return model().get_customizable_model_schema(uid, creds(uid, **cred_overrides))


def rules(entity):
    return {rule.name: rule for rule in entity.parameter_rules}
