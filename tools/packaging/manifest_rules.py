"""Rules the Dify daemon (not just the lenient SDK) applies to manifest.yaml and the provider YAML.

Each check returns a list of human-readable problems; an empty list means the document passes.
The daemon is stricter than the SDK the plugin runs on (lower-case author, X.Y.Z versions, icons
that must exist), so a plugin that starts fine locally can still be refused at install time.
These functions work on already-loaded dicts so the packager can check files inside a zip and
tests can check mutated copies.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

AUTHOR_RE = re.compile(r"^[a-z0-9_-]{1,64}$")
NAME_RE = re.compile(r"^[a-z0-9_-]{1,128}$")
VERSION_RE = re.compile(r"^\d{1,4}(\.\d{1,4}){2}(-\w{1,16})?$")
RFC3339_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
LANGUAGES = ("en_US", "zh_Hans", "ja_JP")
MODEL_TYPES = ("llm", "text-embedding", "rerank", "speech2text", "tts")
MODEL_PERMISSIONS = {"enabled", "llm", "text_embedding", "rerank", "tts", "speech2text"}
PROVIDER_YAML = "provider/xinference.yaml"
MODEL_SOURCES = (
    "models/llm/llm.py",
    "models/text_embedding/text_embedding.py",
    "models/rerank/rerank.py",
    "models/speech2text/speech2text.py",
    "models/tts/tts.py",
)
FORM_TYPES = {"text-input", "secret-input", "select", "radio", "switch"}
OTHER_CATEGORIES = ("tools", "endpoints", "agent_strategies", "datasources", "triggers")
HELP_HOST = "inference.readthedocs.io"
MAX_TEXT = 1023  # the daemon allows each language 1..1023 characters


def _get(doc: Any, dotted: str) -> Any:
    for key in dotted.split("."):
        if not isinstance(doc, dict):
            return None
        doc = doc.get(key)
    return doc


def _i18n_problems(value: Any, where: str, languages: tuple[str, ...] = ("en_US",)) -> list[str]:
    if not isinstance(value, dict):
        return [f"{where}: must be a mapping of language → text"]
    problems = [f"{where}: {lang} missing or empty" for lang in languages if not value.get(lang)]
    for lang, text in value.items():
        if not isinstance(text, str) or len(text) > MAX_TEXT:
            problems.append(f"{where}.{lang}: must be text of at most {MAX_TEXT} characters")
    return problems


def _created_at_ok(value: Any) -> bool:
    if isinstance(value, datetime):  # an unquoted YAML timestamp
        return value.tzinfo is not None
    if not isinstance(value, str) or not RFC3339_RE.match(value):
        return False
    try:
        datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return False
    return True


def _identity_problems(manifest: dict) -> list[str]:
    problems = []
    checks = (
        ("author", AUTHOR_RE, "lower-case letters, digits, _ or -, 1–64 characters"),
        ("name", NAME_RE, "lower-case letters, digits, _ or -, 1–128 characters"),
        ("version", VERSION_RE, "X.Y.Z with an optional -suffix"),
        ("meta.version", VERSION_RE, "X.Y.Z with an optional -suffix"),
    )
    for field, pattern, rule in checks:
        value = _get(manifest, field)
        if not isinstance(value, str) or not pattern.match(value):
            problems.append(f"manifest {field} {value!r}: must be {rule}")
    if manifest.get("type") != "plugin":
        problems.append("manifest type: must be 'plugin'")
    if not _created_at_ok(manifest.get("created_at")):
        problems.append(f"manifest created_at {manifest.get('created_at')!r}: must be RFC 3339")
    icon = manifest.get("icon")
    if not isinstance(icon, str) or not icon or len(icon) > 128:
        problems.append("manifest icon: must name a file in _assets/ (≤ 128 characters)")
    problems += _i18n_problems(manifest.get("label"), "manifest label")
    problems += _i18n_problems(manifest.get("description"), "manifest description")
    return problems


def _runtime_problems(manifest: dict) -> list[str]:
    problems = []
    arch = _get(manifest, "meta.arch")
    if not isinstance(arch, list) or sorted(arch) != ["amd64", "arm64"]:
        problems.append(f"manifest meta.arch {arch!r}: must be exactly amd64 and arm64")
    expected = {"language": "python", "version": "3.12", "entrypoint": "main"}
    for key, want in expected.items():
        got = _get(manifest, f"meta.runner.{key}")
        if got != want:
            problems.append(f"manifest meta.runner.{key} {got!r}: must be {want!r}")
    memory = _get(manifest, "resource.memory")
    if not isinstance(memory, int) or isinstance(memory, bool) or memory <= 0:
        problems.append(f"manifest resource.memory {memory!r}: must be a positive integer (bytes)")
    return problems


def _declaration_problems(manifest: dict) -> list[str]:
    problems = []
    permission = _get(manifest, "resource.permission") or {}
    if not isinstance(permission, dict):
        return ["manifest resource.permission: must be a mapping"]
    for key in sorted(set(permission) - {"model"}):
        problems.append(f"manifest resource.permission.{key}: a model plugin asks for model permissions only")
    model = permission.get("model") or {}
    for key in sorted(set(model) - MODEL_PERMISSIONS):
        if model[key]:
            problems.append(f"manifest resource.permission.model.{key}: not a model type this plugin serves")
    if _get(manifest, "plugins.models") != [PROVIDER_YAML]:
        problems.append(f"manifest plugins.models: must be [{PROVIDER_YAML}]")
    for category in OTHER_CATEGORIES:
        if _get(manifest, f"plugins.{category}"):
            problems.append(f"manifest plugins.{category}: a model plugin may declare models only")
    return problems


def manifest_problems(manifest: Any) -> list[str]:
    """Everything in manifest.yaml that the daemon would refuse (or that breaks this plugin)."""
    if not isinstance(manifest, dict):
        return ["manifest.yaml: must be a YAML mapping"]
    return _identity_problems(manifest) + _runtime_problems(manifest) + _declaration_problems(manifest)


def _field_problems(field: dict, where: str) -> list[str]:
    problems = []
    if not isinstance(field.get("variable"), str) or not field.get("variable"):
        problems.append(f"{where}: variable missing")
    if field.get("type") not in FORM_TYPES:
        problems.append(f"{where}: type {field.get('type')!r} is not one of {sorted(FORM_TYPES)}")
    problems += _i18n_problems(field.get("label"), f"{where} label", LANGUAGES)
    for part in ("placeholder", "help"):
        if part in field:
            problems += _i18n_problems(field[part], f"{where} {part}", LANGUAGES)
    for option in field.get("options") or []:
        problems += _i18n_problems(option.get("label"), f"{where} option {option.get('value')!r}", LANGUAGES)
    return problems


# variable -> attributes it must have; api_key must stay optional (auth is off on older servers)
REQUIRED_FIELDS: dict[str, dict[str, Any]] = {
    "server_url": {"type": "text-input", "required": True},
    "model_uid": {"type": "text-input", "required": True},
    "api_key": {"type": "secret-input", "required": False},
    "invoke_timeout": {},
    "max_retries": {},
    # selects, not switches: Dify drops a switch turned off, so "off" must be a non-empty string
    "tls_verify": {"type": "select", "default": "true"},
    "truncate_long_texts": {"type": "select", "default": "true"},
    # the official Dify plugins' name and values, so a form filled for them means the same here
    "enable_request_metadata": {"type": "select", "default": "disabled"},
}


def _switch_problems(field: dict) -> list[str]:
    """Dify stores only truthy values: a switch turned off is dropped and then reads as its default,
    so only a switch whose default is off can be turned off."""
    if field.get("type") != "switch" or str(field.get("default", "false")).lower() == "false":
        return []
    return [
        f"provider field {field.get('variable')!r}: a switch that defaults to on cannot be turned off "
        "(Dify drops false and the default comes back); use a select with string values"
    ]


def _form_problems(provider: dict) -> list[str]:
    schema = provider.get("model_credential_schema")
    if not isinstance(schema, dict):
        return ["provider model_credential_schema: missing"]
    problems = _i18n_problems(_get(schema, "model.label"), "provider model label", LANGUAGES)
    problems += _i18n_problems(_get(schema, "model.placeholder"), "provider model placeholder", LANGUAGES)
    fields = schema.get("credential_form_schemas")
    if not isinstance(fields, list) or not fields or len(fields) > 32:
        return [*problems, "provider credential_form_schemas: must list 1–32 fields"]
    by_name = {}
    for index, field in enumerate(fields):
        if not isinstance(field, dict):
            problems.append(f"provider credential field #{index}: must be a mapping")
            continue
        problems += _field_problems(field, f"provider field {field.get('variable', index)!r}")
        problems += _switch_problems(field)
        by_name[field.get("variable")] = field
    for name, wanted in REQUIRED_FIELDS.items():
        field = by_name.get(name)
        if field is None:
            problems.append(f"provider field {name!r}: missing")
            continue
        for attr, value in wanted.items():
            # An absent "required" means optional to Dify.
            got = field.get(attr, False if attr == "required" else None)
            if got != value:
                problems.append(f"provider field {name!r}: {attr} is {got!r}, must be {value!r}")
    return problems


def _help_problems(provider: dict) -> list[str]:
    problems = _i18n_problems(_get(provider, "help.title"), "provider help title", LANGUAGES)
    urls = _get(provider, "help.url")
    if not isinstance(urls, dict) or "en_US" not in urls:
        return [*problems, "provider help url: en_US missing"]
    for lang, url in urls.items():
        parts = urlsplit(str(url))
        if parts.scheme != "https" or parts.hostname != HELP_HOST:
            problems.append(f"provider help url {lang} {url!r}: must point at https://{HELP_HOST}/")
    return problems


def _source_problems(provider: dict) -> list[str]:
    problems = []
    if not _get(provider, "extra.python.provider_source"):
        problems.append("provider extra.python.provider_source: missing")
    sources = _get(provider, "extra.python.model_sources")
    if not isinstance(sources, list) or sorted(sources) != sorted(MODEL_SOURCES):
        problems.append(f"provider extra.python.model_sources: must be exactly {list(MODEL_SOURCES)}")
    for source in sources if isinstance(sources, list) else []:
        # Error labels come from module.split(".")[-3]; shallower modules turn every error into IndexError.
        if not isinstance(source, str) or len(source.split("/")) != 3 or not source.endswith(".py"):
            problems.append(f"provider model source {source!r}: must be models/<type>/<file>.py")
    return problems


def provider_problems(provider: Any) -> list[str]:
    """Everything in the provider YAML that the daemon, the SDK or Dify's form would trip over."""
    if not isinstance(provider, dict):
        return ["provider YAML: must be a YAML mapping"]
    problems = []
    name = provider.get("provider")
    if name != "xinference":
        problems.append(f"provider name {name!r}: must be 'xinference'")
    for key in ("label", "description"):
        problems += _i18n_problems(provider.get(key), f"provider {key}", LANGUAGES)
    types = provider.get("supported_model_types")
    if not isinstance(types, list) or sorted(types) != sorted(MODEL_TYPES):
        problems.append(f"provider supported_model_types {types!r}: must be exactly {list(MODEL_TYPES)}")
    if provider.get("configurate_methods") != ["customizable-model"]:
        problems.append("provider configurate_methods: must be [customizable-model]")
    if "models" in provider and not isinstance(provider["models"], dict):
        problems.append("provider models: must be a mapping (the SDK rejects a list)")
    for key in ("icon_small", "icon_large"):
        problems += _i18n_problems(provider.get(key), f"provider {key}")
    return problems + _form_problems(provider) + _help_problems(provider) + _source_problems(provider)


def referenced_icons(manifest: dict, provider: dict) -> set[str]:
    """Icon file names (relative to _assets/) that the daemon requires to exist."""
    icons = {manifest.get(key) for key in ("icon", "icon_dark")}
    for key in ("icon_small", "icon_large"):
        value = provider.get(key)
        if isinstance(value, dict):
            icons.update(value.values())
    return {icon for icon in icons if isinstance(icon, str) and icon}
