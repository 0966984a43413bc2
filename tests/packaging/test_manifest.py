"""manifest.yaml passes the daemon's rules, and each rule really catches its violation."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from tools.packaging.manifest_rules import manifest_problems

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yaml").read_text(encoding="utf-8"))


def _with(manifest: dict, dotted: str, value: object) -> dict:
    """A deep copy of the manifest with one field set (or removed when value is ...)."""
    doc = copy.deepcopy(manifest)
    *parents, last = dotted.split(".")
    node = doc
    for key in parents:
        node = node.setdefault(key, {})
    if value is ...:
        node.pop(last, None)
    else:
        node[last] = value
    return doc


def test_repository_manifest_passes(manifest):
    assert manifest_problems(manifest) == []


def test_manifest_matches_provider_and_package_basics(manifest):
    assert manifest["plugins"]["models"] == ["provider/xinference.yaml"]
    assert (ROOT / "_assets" / manifest["icon"]).is_file()
    assert (ROOT / f"{manifest['meta']['runner']['entrypoint']}.py").is_file()
    assert manifest["version"] == manifest["meta"]["version"]


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("author", "Xinference-Community", "author"),  # the SDK allows upper case, the daemon does not
        ("author", "a" * 65, "author"),
        ("author", ..., "author"),
        ("name", "xinference plugin", "name"),
        ("name", "x" * 129, "name"),
        ("version", "1.0", "version"),  # PEP 440 but not X.Y.Z: SDK starts, daemon refuses
        ("version", "1.0.0rc1", "version"),
        ("version", "10000.0.0", "version"),
        ("meta.version", "0.1", "meta.version"),
        ("meta.arch", ["amd64"], "arch"),
        ("meta.arch", ["amd64", "arm64", "riscv64"], "arch"),
        ("meta.runner.language", "go", "runner.language"),
        ("meta.runner.version", 3.12, "runner.version"),  # unquoted YAML gives a float
        ("meta.runner.version", "3.11", "runner.version"),
        ("meta.runner.entrypoint", "app", "runner.entrypoint"),
        ("resource.memory", "256MB", "memory"),
        ("resource.memory", True, "memory"),
        ("resource.memory", ..., "memory"),
        ("created_at", "2026-11-21", "created_at"),
        ("created_at", "2026-11-21T00:00:00", "created_at"),  # no zone
        ("created_at", "yesterday", "created_at"),
        ("created_at", ..., "created_at"),
        ("label.en_US", ..., "label"),
        ("label.zh_Hans", "x" * 1024, "label.zh_Hans"),
        ("description.en_US", "x" * 1024, "description.en_US"),
        ("description", "just a string", "description"),
        ("icon", ..., "icon"),
        ("type", "bundle", "type"),
    ],
)
def test_each_manifest_rule_catches_its_violation(manifest, field, value, needle):
    problems = manifest_problems(_with(manifest, field, value))
    assert problems, f"{field}={value!r} was accepted"
    assert any(needle in p for p in problems), problems


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("resource.permission.tool", {"enabled": True}, "permission.tool"),
        ("resource.permission.endpoint", {"enabled": True}, "permission.endpoint"),
        ("resource.permission.app", {"enabled": True}, "permission.app"),
        ("resource.permission.node", {"enabled": True}, "permission.node"),
        ("resource.permission.storage", {"enabled": True, "size": 1024}, "permission.storage"),
        ("resource.permission.model.moderation", True, "moderation"),
        ("plugins.models", ["provider/other.yaml"], "plugins.models"),
        ("plugins.models", [], "plugins.models"),
        ("plugins.tools", ["provider/tool.yaml"], "plugins.tools"),
        ("plugins.endpoints", ["endpoints/e.yaml"], "plugins.endpoints"),
    ],
)
def test_declaration_and_permission_rules(manifest, field, value, needle):
    problems = manifest_problems(_with(manifest, field, value))
    assert any(needle in p for p in problems), problems


@pytest.mark.parametrize(
    "created_at", ["2024-09-20T00:13:50Z", "2024-09-20T00:13:50.123+08:00", "2024-09-20t00:13:50z"]
)
def test_rfc3339_forms_are_accepted(manifest, created_at):
    assert manifest_problems(_with(manifest, "created_at", created_at)) == []


def test_unquoted_yaml_timestamp_needs_a_zone(manifest):
    with_zone = yaml.safe_load("t: 2024-09-20T00:13:50Z")["t"]
    without_zone = yaml.safe_load("t: 2024-09-20 00:13:50")["t"]
    assert manifest_problems(_with(manifest, "created_at", with_zone)) == []
    assert manifest_problems(_with(manifest, "created_at", without_zone))


def test_version_with_suffix_is_accepted(manifest):
    doc = _with(_with(manifest, "version", "1.2.3-beta1"), "meta.version", "1.2.3-beta1")
    assert manifest_problems(doc) == []


def test_non_mapping_manifest_is_reported():
    assert manifest_problems(["not", "a", "mapping"]) == ["manifest.yaml: must be a YAML mapping"]
