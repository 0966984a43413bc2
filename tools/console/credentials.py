"""Build a credentials dict exactly as Dify stores it before it reaches the plugin.

Dify runs the provider YAML's form validator on what the form posts (graphon's
`ModelCredentialSchemaValidator`; Dify's `core/model_runtime/schema_validators` is the same), and
stores only what it returns. The whole rule, as that code states it:

- `__model_type` is added to the posted values, and a field with `show_on` is kept only when every
  rule's variable is present and equal to its value (our form only shows on `__model_type`);
- a missing or falsy value: a required field is an error; otherwise the field takes its YAML
  `default` exactly as written there (a string, e.g. "true"), or is dropped when it has none;
- any other value must be a string: longer than `max_length` (when set) is an error; a select or
  radio value must be one of its options; a switch must be "true" or "false" (any case) and becomes
  the boolean;
- only truthy results are stored: a switch turned off (False) is dropped, so it reads as missing.

tests/_xinference/test_dify_credential_rule.py holds `build` equal to graphon's on every field.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import yaml

MODEL_TYPES = ("llm", "text-embedding", "rerank", "speech2text", "tts")


def form_fields(plugin_root: Path) -> list[dict[str, Any]]:
    return copy.deepcopy(_form_fields(plugin_root / "provider" / "xinference.yaml", _mtime(plugin_root)))


def _mtime(plugin_root: Path) -> int:
    return (plugin_root / "provider" / "xinference.yaml").stat().st_mtime_ns


@functools.lru_cache(maxsize=4)
def _form_fields(path: Path, _mtime_ns: int) -> list[dict[str, Any]]:
    provider = yaml.safe_load(path.read_text(encoding="utf-8"))
    return list((provider.get("model_credential_schema") or {}).get("credential_form_schemas") or [])


def _shown(field: dict[str, Any], posted: dict[str, Any]) -> bool:
    return all(
        rule.get("variable") in posted and posted[rule.get("variable")] == rule.get("value")
        for rule in field.get("show_on") or []
    )


def _stored_value(field: dict[str, Any], posted: dict[str, Any]) -> Any:
    """The value Dify keeps for one shown field (falsy: not stored); ValueError/TypeError as Dify's."""
    name = field["variable"]
    value = posted.get(name)
    if not value:
        if field.get("required"):
            raise ValueError(f"Variable {name} is required")
        return field.get("default") or None
    if not isinstance(value, str):
        raise TypeError(f"Variable {name} should be string")
    if field.get("max_length") and len(value) > field["max_length"]:
        raise ValueError(f"Variable {name} length should not be greater than {field['max_length']}")
    options = [option.get("value") for option in field.get("options") or []]
    if field.get("type") in ("select", "radio") and options and value not in options:
        raise ValueError(f"Variable {name} is not in options")
    if field.get("type") == "switch":
        if value.lower() not in ("true", "false"):
            raise ValueError(f"Variable {name} should be true or false")
        return value.lower() == "true"
    return value


def build(plugin_root: Path, model_type: str, values: dict[str, Any]) -> dict[str, Any]:
    """What Dify stores for `values` as the form posts them (strings; a switch as "true"/"false").

    Raises ValueError (or TypeError for a non-string value) where Dify refuses to save the form.
    """
    posted = {**values, "__model_type": model_type}
    credentials: dict[str, Any] = {}
    for field in _form_fields(plugin_root / "provider" / "xinference.yaml", _mtime(plugin_root)):
        if _shown(field, posted):
            value = _stored_value(field, posted)
            if value:
                credentials[field["variable"]] = value
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
