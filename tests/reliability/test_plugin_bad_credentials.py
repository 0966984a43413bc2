"""Bad credentials: bad credential values through the real plugin process.

Every credential field gets empty, whitespace, wrong-type, out-of-range and hostile values. Each
case states its outcome: accepted (listed in ACCEPTED: a default applies or the value is valid) or
rejected as CredentialsValidateFailedError naming the field. Every call also must end with a typed
error or an answer — never an untyped one, never a hang, never the key in the message — and the
process keeps serving (bad_input_support.run_checked). Bad model-call input: test_plugin_bad_calls.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.helpers import API_KEY
from tests.reliability.bad_input_support import run_checked
from tests.reliability.plugin_harness import creds, request
from tools.console import payloads

LONG = "x" * 5000
HOSTILE = [
    "a\nb",
    "a\r\nInjected-Header: 1",
    "nul\x00byte",
    LONG,
    "javascript:alert(1)",
    "file:///etc/passwd",
]
GENERIC = ["", "   ", 123, 1.5, True, [], {}, None, "-1", "0", "99999999", "nan", "inf", "1e309", *HOSTILE]

TEXT_FIELDS = [
    "query_prefix",
    "document_prefix",
    "query_task",
    "document_task",
    "rerank_instruction",
    "language",
    "default_voice",
]
NUMBER_FIELDS = ["invoke_timeout", "max_retries", "max_chunks", "rerank_batch_size", "speed", "context_size"]
CHOICE_FIELDS = [
    "function_calling",
    "vision",
    "thinking",
    "structured_output",
    "video",
    "audio",
    "document",
    "audio_format",
    "enable_request_metadata",
]
SWITCH_FIELDS = ["tls_verify", "truncate_long_texts", "tts_streaming"]
ALL_FIELDS = [
    "server_url",
    "model_uid",
    "api_key",
    *TEXT_FIELDS,
    *NUMBER_FIELDS,
    *CHOICE_FIELDS,
    *SWITCH_FIELDS,
]

SERVER_URLS_REJECTED = [
    "",
    "   ",
    "javascript:alert(1)",
    "file:///etc/passwd",
    "ftp://127.0.0.1/",
    "127.0.0.1:9997",
    "http://",
    "http://127.0.0.1:99999",
    "http://127.0.0.1:port",
    "http://user:pw@127.0.0.1:1",
    "http://127.0.0.1:1/?x=1",
    "http://127.0.0.1:1/#frag",
    "http://127.0.0.1:1\nHost: evil",
    LONG,
    42,
    ["x"],
]
UNSET = ["", "   ", None]  # empty or absent: the field's default applies
# field -> the values of the fuzz that are accepted; every other value of the fuzz is rejected.
# Control characters (newline, CR, NUL) and 5,000-character values are rejected for every field.
ACCEPTED: dict[str, list] = {
    "server_url": [],  # required, and every value in SERVER_URLS_REJECTED is malformed
    "model_uid": [],  # required: unset is rejected too; wrong types are rejected
    # free text: any one-line string of sane length (the key is opaque; prefixes and tasks are prose)
    **{
        f: [*UNSET, "-1", "0", "99999999", "nan", "inf", "1e309", "javascript:alert(1)", "file:///etc/passwd"]
        for f in ("api_key", *TEXT_FIELDS)
    },
    # numbers within their documented range (provider YAML); JSON numbers are accepted as numbers
    "invoke_timeout": [*UNSET, 123, 1.5],  # seconds, > 0
    "max_retries": [*UNSET, "0"],  # 0-10
    "max_chunks": [*UNSET, 123],  # 1-2048
    "rerank_batch_size": [*UNSET, 123],  # >= 1
    "speed": [*UNSET, 1.5],  # 0.25-4
    "context_size": UNSET,  # text input: a number type is rejected; 0, -1 and 99999999 are out of range
    **{f: UNSET for f in CHOICE_FIELDS},  # only the YAML's options
    **{f: ["", True, None] for f in SWITCH_FIELDS},  # a switch: true/false (bool or string), or unset
}

LABELS = {
    f["variable"]: f["label"]["en_US"]
    for f in yaml.safe_load(Path("provider/xinference.yaml").read_text())["model_credential_schema"][
        "credential_form_schemas"
    ]
}


def _field_cases():
    for field in ALL_FIELDS:
        values = SERVER_URLS_REJECTED if field == "server_url" else GENERIC
        for value in values:
            yield pytest.param(field, value, id=f"{field}={value!r:.20}")
    for field in CHOICE_FIELDS:
        yield pytest.param(field, "bogus", id=f"{field}=bogus")
    for field in SWITCH_FIELDS:
        yield pytest.param(field, "maybe", id=f"{field}=maybe")


@pytest.mark.parametrize(("field", "value"), list(_field_cases()))
def test_credential_field_values(plugin, hostile, field, value):
    raw = creds(hostile.url("ok"))
    if value is None:
        raw.pop(field, None)
    else:
        raw[field] = value
    result = run_checked(plugin, payloads.validate("llm", "llm", raw))
    accepted = any(type(value) is type(v) and value == v for v in ACCEPTED[field])
    if accepted:
        assert result.error is None, f"{field}={value!r} must be accepted: {result.error}"
        assert result.chunks[-1]["result"] is True
        return
    assert result.error is not None, f"{field}={value!r} must be rejected, was accepted"
    assert result.error["error_type"] == "CredentialsValidateFailedError", result.error
    message = result.error["message"]
    assert field in message or LABELS[field] in message, f"the message must name {field}: {message}"
    assert len(message) < 600, "the message must quote, not echo, a long value"


@pytest.mark.parametrize("suffix", ["/v1", "/v1/", "/", "  ", "/V1"])
def test_pasted_url_variants_work(plugin, hostile, suffix):
    result = run_checked(plugin, payloads.validate("llm", "llm", creds(hostile.url("ok") + suffix)))
    assert result.error is None, result.error


def test_hostile_api_key_never_reaches_a_header(plugin, hostile):
    url = hostile.url("ok")
    result = run_checked(plugin, request("embed", url, api_key=API_KEY + "\r\nX-Injected: 1"))
    assert result.error["error_type"] in {"InvokeBadRequestError", "CredentialsValidateFailedError"}
    assert "api_key" in result.error["message"]
    assert hostile.requests_for(url) == []  # refused before anything was sent


def test_credentials_missing_entirely(plugin):
    for model_type, model in (("llm", "llm"), ("text-embedding", "embed"), ("rerank", "rerank")):
        result = run_checked(plugin, payloads.validate(model_type, model, {}))
        assert result.error["error_type"] == "CredentialsValidateFailedError"
        assert "server_url" in result.error["message"]
