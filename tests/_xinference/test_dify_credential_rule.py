"""Credentials as Dify stores them (graphon's validator, tests/dify_form.py): every on/off choice
can be turned off, stored credentials keep their meaning, a missing field means its YAML default, and
tools/console/credentials.py states the same rule as Dify's code on every field."""

from __future__ import annotations

import pytest

from models._xinference.credentials import parse_credentials
from tests.dify_form import FIELDS, ROOT, dify_stored, stored_credentials
from tools.console.credentials import MODEL_TYPES, build

BASE = {"server_url": "http://127.0.0.1:9997", "model_uid": "m-1"}
# field -> (the model type that shows it, the parsed attribute)
ON_OFF = {
    "tls_verify": ("llm", "tls_verify"),
    "truncate_long_texts": ("text-embedding", "truncate_long_texts"),
    "tts_streaming": ("tts", "tts_streaming"),
}


def _outcome(make, model_type, posted):
    try:
        return make(model_type, dict(posted))
    except (ValueError, TypeError) as err:
        return type(err)


def _posted_values(field):
    options = [o["value"] for o in field.get("options") or []]
    return [None, "", "true", "false", "TRUE", "x", "12", field.get("default"), True, "y" * 3000, *options]


@pytest.mark.parametrize("model_type", MODEL_TYPES)
@pytest.mark.parametrize("name", sorted(FIELDS))
def test_console_rule_equals_difys_on_every_field(model_type, name):
    def console(model_type, posted):
        return build(ROOT, model_type, posted)

    for value in _posted_values(FIELDS[name]):
        posted = {**BASE, name: value} if value is not None else {k: v for k, v in BASE.items() if k != name}
        assert _outcome(console, model_type, posted) == _outcome(dify_stored, model_type, posted), value


@pytest.mark.parametrize("name", sorted(ON_OFF))
def test_every_on_off_choice_turns_off_and_on_as_the_form_posts_it(name):
    model_type, attribute = ON_OFF[name]
    assert getattr(stored_credentials(model_type, **BASE, **{name: "false"}), attribute) is False
    assert getattr(stored_credentials(model_type, **BASE, **{name: "true"}), attribute) is True


def test_no_switch_defaults_to_on():
    """A switch Dify drops when off must mean off when missing; only tts_streaming is still a switch."""
    switches = {n: f.get("default") for n, f in FIELDS.items() if f["type"] == "switch"}
    assert switches == {"tts_streaming": "false"}


@pytest.mark.parametrize(
    ("stored", "verifies"), [(True, True), ("true", True), (None, True), ("false", False)]
)
def test_stored_tls_setting_keeps_its_meaning(stored, verifies):
    """Saved while tls_verify was a switch (True, or the default string), never saved, or the new "false"."""
    raw = {**BASE} if stored is None else {**BASE, "tls_verify": stored}
    assert parse_credentials(raw).tls_verify is verifies


@pytest.mark.parametrize("model_type", MODEL_TYPES)
def test_a_missing_field_means_its_yaml_default(model_type):
    """Credentials saved before a field existed (the field missing) parse like a form left empty (the
    YAML default stored): the plugin's defaults and the form's agree, field by field."""
    assert parse_credentials(BASE) == parse_credentials(dify_stored(model_type, BASE))


def test_form_defaults_are_pinned():
    """The defaults the README and the form promise (README "Credentials" table)."""
    defaults = {n: f.get("default") for n, f in FIELDS.items() if f.get("default") is not None}
    assert defaults == {
        "invoke_timeout": "60",
        "max_retries": "2",
        "tls_verify": "true",
        "context_size": "auto",
        "enable_request_metadata": "disabled",
        "function_calling": "auto",
        "vision": "auto",
        "thinking": "auto",
        "structured_output": "auto",
        "video": "auto",
        "audio": "auto",
        "document": "auto",
        "max_chunks": "32",
        "truncate_long_texts": "true",
        "embedding_vision": "auto",
        "rerank_vision": "auto",
        "rerank_batch_size": "256",
        "audio_format": "mp3",
        "speed": "1.0",
        "tts_streaming": "false",
    }
    parsed = parse_credentials(BASE)
    assert (parsed.timeout, parsed.max_retries, parsed.max_chunks) == (60.0, 2, 32)


@pytest.mark.parametrize(("posted", "enabled"), [(None, False), ("disabled", False), ("enabled", True)])
def test_request_metadata_is_opt_in(posted, enabled):
    values = {**BASE} if posted is None else {**BASE, "enable_request_metadata": posted}
    assert stored_credentials("llm", **values).request_metadata is enabled
