"""Build a credentials dict the way Dify does before it reaches the plugin.

Dify runs the provider YAML's form validator first: only declared variables survive, fields hidden
by `show_on` for this model type are dropped, a missing optional field takes its YAML default (as
the string written there), and a switch the admin touched becomes a boolean.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

MODEL_TYPES = ("llm", "text-embedding", "rerank", "speech2text", "tts")


def form_fields(plugin_root: Path) -> list[dict[str, Any]]:
    provider = yaml.safe_load((plugin_root / "provider" / "xinference.yaml").read_text(encoding="utf-8"))
    return list((provider.get("model_credential_schema") or {}).get("credential_form_schemas") or [])


def _shown(field: dict[str, Any], model_type: str) -> bool:
    for rule in field.get("show_on") or []:
        if rule.get("variable") == "__model_type" and rule.get("value") != model_type:
            return False
    return True


def build(plugin_root: Path, model_type: str, values: dict[str, Any]) -> dict[str, Any]:
    """Declared fields only, defaults applied; raises ValueError for a missing required field."""
    credentials: dict[str, Any] = {}
    for field in form_fields(plugin_root):
        name = field["variable"]
        if not _shown(field, model_type):
            continue
        value = values.get(name)
        if value in (None, ""):
            if field.get("required"):
                raise ValueError(f"missing required credential {name!r}")
            if field.get("default") is not None:
                credentials[name] = field["default"]  # as written in the YAML, e.g. the string "true"
            continue
        if field.get("type") == "switch":
            credentials[name] = str(value).lower() in ("1", "true", "yes", "on")
        else:
            credentials[name] = str(value)
    return credentials


def detect_model_type(description: dict[str, Any]) -> str:
    """Dify model type for a Xinference model description (GET /v1/models/{uid})."""
    kind = str(description.get("model_type", "")).lower()
    abilities = description.get("model_ability") or []
    if isinstance(abilities, str):
        abilities = [abilities]
    if kind == "llm":
        return "llm"
    if kind == "embedding":
        return "text-embedding"
    if kind == "rerank":
        return "rerank"
    if kind == "audio":
        if any(a in ("text2audio", "text-to-audio") or a.startswith("text2audio") for a in abilities):
            return "tts"
        return "speech2text"
    raise ValueError(f"Dify has no model type for a Xinference {kind or 'unknown'!r} model")
