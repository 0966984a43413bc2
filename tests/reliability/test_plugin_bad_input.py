"""Deliverable 2: bad input through the real plugin process.

Every credential field gets empty, whitespace, wrong-type, out-of-range and hostile values; every
model call gets empty texts, empty docs, unknown content parts and giant prompts. The rule: either
the value is accepted (a default applies and the call works) or the answer is a clear typed error
naming the field — never a crash type (TypeError, KeyError, AttributeError…), never a hang, never
the key in the message, and the process keeps serving.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.helpers import API_KEY
from tests.reliability.plugin_harness import creds, request
from tools.console import payloads

CRASH_TYPES = {
    "TypeError",
    "KeyError",
    "AttributeError",
    "IndexError",
    "NotImplementedError",
    "RuntimeError",
    "UnboundLocalError",
    "ZeroDivisionError",
    "RecursionError",
    "InvokeError",
}
TYPED = {
    "CredentialsValidateFailedError",
    "InvokeBadRequestError",
    "InvokeConnectionError",
    "InvokeServerUnavailableError",
    "InvokeAuthorizationError",
    "InvokeRateLimitError",
}
CALL_TIMEOUT = 20.0

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
CHOICE_FIELDS = ["function_calling", "vision", "thinking", "structured_output", "audio_format"]
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
# a value that must be refused for the field, whatever else is accepted
MUST_REJECT = {  # (field, repr(value))
    *((f, repr(v)) for f in ALL_FIELDS for v in ("a\nb", "a\r\nInjected-Header: 1", "nul\x00byte", LONG)),
    *(("model_uid", repr(v)) for v in ("", "   ", None)),
    *((f, repr(v)) for f in NUMBER_FIELDS for v in ("-1", "99999999", "nan", "inf", "1e309", True, [], {})),
    *((f, repr(v)) for f in CHOICE_FIELDS for v in ("javascript:alert(1)", 123, [], {})),
    *((f, repr(v)) for f in SWITCH_FIELDS for v in ("maybe", 123, [], {}, "javascript:alert(1)")),
}

LABELS = {
    f["variable"]: f["label"]["en_US"]
    for f in yaml.safe_load(Path("provider/xinference.yaml").read_text())["model_credential_schema"][
        "credential_form_schemas"
    ]
}
TALLY = {"cases": 0, "accepted": 0, "rejected": 0, "crashes": 0}


def _run(plugin, data: dict):
    TALLY["cases"] += 1
    result = plugin.call(data, timeout=CALL_TIMEOUT)
    assert result.ended and result.violation is None, result
    if result.error is not None:
        error_type, message = result.error["error_type"], result.error["message"]
        # The SDK itself checks model parameters against the schema's rules before calling us and
        # raises a plain ValueError "Model Parameter … should be …": clear, and not ours to type.
        # Likewise the SDK validates the request payload itself (pydantic ValidationError): a shape the
        # daemon never sends. Both reach Dify as clear messages before any plugin code runs.
        sdk_rule = (error_type == "ValueError" and message.startswith("Model Parameter ")) or (
            error_type == "ValidationError"
        )
        if not (error_type in TYPED or sdk_rule):
            TALLY["crashes"] += 1
        assert error_type in TYPED or sdk_rule, f"{data['action']}: untyped {error_type}: {message}"
        assert API_KEY not in result.error["message"], "the key leaked into an error message"
        assert API_KEY not in result.error.get("args", {}).get("traceback", "")
        TALLY["rejected"] += 1
    else:
        TALLY["accepted"] += 1
    assert plugin.returncode is None
    return result


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
    result = _run(plugin, payloads.validate("llm", "llm", raw))
    if field == "server_url" or (field, repr(value)) in MUST_REJECT:
        assert result.error is not None, f"{field}={value!r} was accepted"
    if result.error is not None:
        assert result.error["error_type"] == "CredentialsValidateFailedError", result.error
        message = result.error["message"]
        assert field in message or LABELS[field] in message, f"the message must name {field}: {message}"
        assert len(result.error["message"]) < 600, "the message must quote, not echo, a long value"


@pytest.mark.parametrize("suffix", ["/v1", "/v1/", "/", "  ", "/V1"])
def test_pasted_url_variants_work(plugin, hostile, suffix):
    result = _run(plugin, payloads.validate("llm", "llm", creds(hostile.url("ok") + suffix)))
    assert result.error is None, result.error


def test_hostile_api_key_never_reaches_a_header(plugin, hostile):
    url = hostile.url("ok")
    result = _run(plugin, request("embed", url, api_key=API_KEY + "\r\nX-Injected: 1"))
    assert result.error["error_type"] in {"InvokeBadRequestError", "CredentialsValidateFailedError"}
    assert "api_key" in result.error["message"]
    assert hostile.requests_for(url) == []  # refused before anything was sent


def test_credentials_missing_entirely(plugin):
    for model_type, model in (("llm", "llm"), ("text-embedding", "embed"), ("rerank", "rerank")):
        result = _run(plugin, payloads.validate(model_type, model, {}))
        assert result.error["error_type"] == "CredentialsValidateFailedError"
        assert "server_url" in result.error["message"]


# ---- model calls with bad or extreme input -----------------------------------------------------

PART_TYPES = ["audio", "video", "document"]


def _llm(hostile, messages, **kwargs):
    return payloads.invoke_llm(
        "llm", creds(hostile.url("ok"), "llm-1", invoke_timeout="10"), messages, **kwargs
    )


@pytest.mark.parametrize(
    ("name", "messages"),
    [
        ("no-messages", []),
        ("empty-content", [{"role": "user", "content": ""}]),
        ("null-content", [{"role": "user", "content": None}]),
        ("empty-parts", [{"role": "user", "content": []}]),
        ("whitespace", [{"role": "user", "content": "   \n\t "}]),
        ("only-system", [{"role": "system", "content": "be terse"}]),
        ("giant-prompt", [{"role": "user", "content": "word " * 600_000}]),  # 3 MB, a 3 MB stdio line
        ("control-chars", [{"role": "user", "content": "\x00\x01\x1b[31m\ud7ff\ufffe"}]),
        ("tool-result-without-call", [{"role": "tool", "content": "42", "tool_call_id": "call-x"}]),
        *[
            (f"{t}-part", [{"role": "user", "content": [{"type": t, "data": "", "url": ""}]}])
            for t in PART_TYPES
        ],
        # the URL goes to Xinference as is; the plugin must not fetch it (the child's guard would catch it)
        (
            "remote-image",
            [{"role": "user", "content": [payloads.image_part(url="https://example.com/cat.png")]}],
        ),
        (
            "bad-base64-image",
            [{"role": "user", "content": [payloads.image_part(base64_data="%%%not base64")]}],
        ),
        ("unknown-part", [{"role": "user", "content": [{"type": "hologram", "data": "x"}]}]),
    ],
)
@pytest.mark.parametrize("stream", [True, False], ids=["stream", "block"])
def test_llm_bad_messages(plugin, hostile, name, messages, stream):
    result = _run(plugin, _llm(hostile, messages, stream=stream))
    if result.error is None:
        assert result.chunks, f"{name}: neither an answer nor an error"


@pytest.mark.parametrize(
    ("name", "parameters"),
    [
        ("negative-max-tokens", {"max_tokens": -5}),
        ("temperature-string", {"temperature": "hot"}),
        ("nan-temperature", {"temperature": float("nan")}),
        ("huge-max-tokens", {"max_tokens": 10**12}),
        ("unknown-parameter", {"frobnicate": True}),
        ("stop-everything", {"stop": ["", "\n"] * 50}),
    ],
)
def test_llm_bad_parameters(plugin, hostile, name, parameters):
    _run(plugin, _llm(hostile, [{"role": "user", "content": "hi"}], parameters=parameters, stream=False))


def test_llm_bad_tools(plugin, hostile):
    tools = [
        {"name": "", "description": "", "parameters": {}},
        {"name": "x" * 5000, "description": "", "parameters": {"type": "nonsense"}},
    ]
    _run(plugin, _llm(hostile, [{"role": "user", "content": "hi"}], tools=tools))


@pytest.mark.parametrize(
    ("name", "texts"),
    [
        ("none", []),
        ("empty-text", [""]),
        ("whitespace", ["  "]),
        ("giant", ["word " * 400_000]),
        ("many", ["t"] * 3000),
        ("control", ["\x00\x1b"]),
    ],
)
@pytest.mark.parametrize("input_type", ["document", "query"])
def test_embedding_bad_texts(plugin, hostile, name, texts, input_type):
    data = payloads.embed(
        "embed", creds(hostile.url("ok"), "embed-1", invoke_timeout="10"), texts, input_type
    )
    result = _run(plugin, data)
    if result.error is None:
        assert len(result.chunks[0]["embeddings"]) == len(texts), "one vector per text, none lost"


@pytest.mark.parametrize(
    ("name", "query", "docs", "threshold", "top_n"),
    [
        ("no-docs", "q", [], None, None),
        ("empty-query", "", ["a", "b"], None, None),
        ("empty-doc", "q", ["", "b"], None, None),
        ("negative-top-n", "q", ["a", "b"], None, -3),
        ("threshold-above-1", "q", ["a", "b"], 5.0, None),
        ("giant-doc", "q", ["word " * 400_000], None, None),
        ("many-docs", "q", [f"d{i}" for i in range(5000)], None, 3),
    ],
)
def test_rerank_bad_input(plugin, hostile, name, query, docs, threshold, top_n):
    data = payloads.rerank(
        "rerank", creds(hostile.url("ok"), "rerank-1", invoke_timeout="10"), query, docs, threshold, top_n
    )
    result = _run(plugin, data)
    if result.error is None:
        found = result.chunks[0]["docs"]
        assert all(0 <= d["index"] < len(docs) and d["text"] == docs[d["index"]] for d in found)


@pytest.mark.parametrize("text", ["", "   ", "x" * 200_000, "\x00"])
def test_tts_bad_text(plugin, hostile, text):
    _run(plugin, payloads.tts("tts", creds(hostile.url("ok"), "tts-1", invoke_timeout="10"), text, "default"))


@pytest.mark.parametrize("audio", [b"", b"not audio at all", b"RIFF\x00\x00"])
def test_stt_bad_audio(plugin, hostile, audio):
    _run(plugin, payloads.stt("stt", creds(hostile.url("ok"), "stt-1", invoke_timeout="10"), audio))


@pytest.mark.parametrize(
    "line", [b"{not json", b'{"event": "request"}', b"[]", b'"x"', b"\xff\xfe", b" " * 10]
)
def test_malformed_protocol_lines_do_not_kill_the_process(plugin, hostile, line):
    plugin.send_raw_line(line)
    result = plugin.call(request("embed", hostile.url("ok")), timeout=CALL_TIMEOUT)
    assert result.error is None and plugin.returncode is None


def test_tally_so_far():
    print(f"\nbad-input tally: {TALLY}")
    assert TALLY["crashes"] == 0
