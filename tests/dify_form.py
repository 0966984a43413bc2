"""Credentials exactly as Dify stores them: what the form posts, run through Dify's own validator.

That is graphon's `ModelCredentialSchemaValidator` (Dify's model runtime, a test dependency installed
with --no-deps: see requirements-graphon.txt). It keeps only truthy results, so a switch turned off
never reaches the plugin; tests that mean "as Dify sends it" build their credentials here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from graphon.model_runtime.entities.model_entities import ModelType
from graphon.model_runtime.entities.provider_entities import ModelCredentialSchema
from graphon.model_runtime.schema_validators.model_credential_schema_validator import (
    ModelCredentialSchemaValidator,
)

from models._xinference.credentials import XinferenceCredentials, parse_credentials

ROOT = Path(__file__).resolve().parents[1]
PROVIDER = yaml.safe_load((ROOT / "provider" / "xinference.yaml").read_text(encoding="utf-8"))
SCHEMA = ModelCredentialSchema.model_validate(PROVIDER["model_credential_schema"])
FIELDS = {f["variable"]: f for f in PROVIDER["model_credential_schema"]["credential_form_schemas"]}


def dify_stored(model_type: str, posted: dict[str, Any]) -> dict[str, Any]:
    """What Dify stores (and later hands the plugin) for a form posted with these values."""
    validator = ModelCredentialSchemaValidator(ModelType(model_type), SCHEMA)
    return validator.validate_and_filter(dict(posted))


def stored_credentials(model_type: str, **posted: Any) -> XinferenceCredentials:
    """The plugin's parsed credentials for a form posted through Dify."""
    return parse_credentials(dify_stored(model_type, posted))
