"""provider/xinference.yaml passes the daemon's and Dify's form rules; each rule catches its violation."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from tools.packaging.manifest_rules import (
    LANGUAGES,
    MODEL_SOURCES,
    MODEL_TYPES,
    provider_problems,
    referenced_icons,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def provider() -> dict:
    return yaml.safe_load((ROOT / "provider" / "xinference.yaml").read_text(encoding="utf-8"))


def _fields(doc: dict) -> list[dict]:
    return doc["model_credential_schema"]["credential_form_schemas"]


def _field(doc: dict, name: str) -> dict:
    return next(f for f in _fields(doc) if f["variable"] == name)


def _mutated(provider: dict, change) -> dict:
    doc = copy.deepcopy(provider)
    change(doc)
    return doc


def test_repository_provider_yaml_passes(provider):
    assert provider_problems(provider) == []


def test_sources_and_icons_exist_on_disk(provider):
    python = provider["extra"]["python"]
    assert (ROOT / python["provider_source"]).is_file()
    for source in python["model_sources"]:
        assert (ROOT / source).is_file(), source
    manifest = yaml.safe_load((ROOT / "manifest.yaml").read_text(encoding="utf-8"))
    icons = referenced_icons(manifest, provider)
    assert {"icon_s_en.svg", "icon_l_en.svg"} <= icons
    for icon in icons:
        assert (ROOT / "_assets" / icon).is_file(), icon


def test_every_label_and_placeholder_is_translated(provider):
    for field in _fields(provider):
        texts = [field["label"], field.get("placeholder") or dict.fromkeys(LANGUAGES, "-")]
        texts += [option["label"] for option in field.get("options") or []]
        for text in texts:
            assert all(text.get(lang) for lang in LANGUAGES), (field["variable"], text)


def _set(path: str, value):
    def change(doc):
        *parents, last = path.split(".")
        node = doc
        for key in parents:
            node = node[key]
        if value is ...:
            del node[last]
        else:
            node[last] = value

    return change


def _set_field(name: str, attr: str, value):
    def change(doc):
        if value is ...:
            del _field(doc, name)[attr]
        else:
            _field(doc, name)[attr] = value

    return change


def _drop_field(name: str):
    def change(doc):
        fields = _fields(doc)
        fields.remove(_field(doc, name))

    return change


def _many_fields(doc):
    extra = [
        {"variable": f"f{i}", "label": dict.fromkeys(LANGUAGES, "x"), "type": "text-input"} for i in range(33)
    ]
    _fields(doc).extend(extra)


RULE_CASES = [
    ("provider name", _set("provider", "xorbits"), "provider name"),
    (
        "types missing tts",
        _set("supported_model_types", ["llm", "text-embedding", "rerank", "speech2text"]),
        "supported",
    ),
    ("types extra", _set("supported_model_types", [*MODEL_TYPES, "moderation"]), "supported"),
    (
        "type underscore",
        _set("supported_model_types", ["llm", "text_embedding", "rerank", "speech2text", "tts"]),
        "supported",
    ),
    (
        "predefined method",
        _set("configurate_methods", ["predefined-model", "customizable-model"]),
        "configurate",
    ),
    ("models as list", _set("models", ["models/llm/*.yaml"]), "models"),
    ("33+ fields", _many_fields, "1–32"),
    ("field type", _set_field("model_uid", "type", "textarea"), "type 'textarea'"),
    ("field without variable", _set_field("speed", "variable", ""), "variable missing"),
    ("label not translated", _set_field("model_uid", "label", {"en_US": "Model UID"}), "zh_Hans missing"),
    (
        "placeholder not translated",
        _set_field("server_url", "placeholder", {"en_US": "x", "zh_Hans": "x"}),
        "ja_JP",
    ),
    (
        "option not translated",
        lambda d: _field(d, "vision")["options"][0].update(label={"en_US": "Auto"}),
        "option",
    ),
    ("model label", _set("model_credential_schema.model.label", {"en_US": "Model"}), "model label"),
    ("server_url secret", _set_field("server_url", "type", "secret-input"), "server_url"),
    ("server_url optional", _set_field("server_url", "required", False), "server_url"),
    ("model_uid optional", _set_field("model_uid", "required", ...), "model_uid"),
    ("api_key plain text", _set_field("api_key", "type", "text-input"), "api_key"),
    ("api_key required", _set_field("api_key", "required", True), "api_key"),
    ("no invoke_timeout", _drop_field("invoke_timeout"), "invoke_timeout"),
    ("no max_retries", _drop_field("max_retries"), "max_retries"),
    ("tls_verify a switch", _set_field("tls_verify", "type", "switch"), "tls_verify"),
    ("truncation a switch", _set_field("truncate_long_texts", "type", "switch"), "truncate_long_texts"),
    ("attribution on by default", _set_field("enable_request_metadata", "default", "enabled"), "enable_req"),
    ("switch on by default", _set_field("tts_streaming", "default", "true"), "tts_streaming"),
    ("help not translated", _set_field("tls_verify", "help", {"en_US": "x"}), "tls_verify' help"),
    ("tls_verify default off", _set_field("tls_verify", "default", "false"), "tls_verify"),
    ("tls_verify default bool", _set_field("tls_verify", "default", True), "tls_verify"),
    ("help elsewhere", _set("help.url.en_US", "https://github.com/xorbitsai/inference"), "help url"),
    ("help http", _set("help.url.en_US", "http://inference.readthedocs.io/en/latest/"), "help url"),
    ("help title", _set("help.title", {"en_US": "Docs"}), "help title"),
    ("no provider_source", _set("extra.python.provider_source", ...), "provider_source"),
    ("model source missing", _set("extra.python.model_sources", list(MODEL_SOURCES[:4])), "model_sources"),
    (
        "model source too shallow",
        _set("extra.python.model_sources", [*MODEL_SOURCES[:4], "tts.py"]),
        "tts.py",
    ),
    ("no icon_small", _set("icon_small", ...), "icon_small"),
    ("label", _set("label", {"en_US": "Xinference"}), "provider label"),
]


@pytest.mark.parametrize(("case", "change", "needle"), RULE_CASES, ids=[c[0] for c in RULE_CASES])
def test_each_provider_rule_catches_its_violation(provider, case, change, needle):
    problems = provider_problems(_mutated(provider, change))
    assert any(needle in p for p in problems), (case, problems)


def test_model_sources_are_three_folders_deep_and_match_types(provider):
    sources = provider["extra"]["python"]["model_sources"]
    assert sorted(sources) == sorted(MODEL_SOURCES)
    for source in sources:
        folder, type_dir, filename = source.split("/")
        assert (folder, filename) == ("models", f"{type_dir}.py")


@pytest.mark.parametrize(
    ("name", "model_type"), [("embedding_vision", "text-embedding"), ("rerank_vision", "rerank")]
)
def test_image_overrides_show_only_for_their_model_type(provider, name, model_type):
    field = _field(provider, name)
    assert field["show_on"] == [{"variable": "__model_type", "value": model_type}]
    assert field["type"] == "select" and field["default"] == "auto" and not field["required"]
    assert [o["value"] for o in field["options"]] == ["auto", "supported", "unsupported"]
    for option in field["options"]:
        assert set(option["label"]) == set(LANGUAGES)
