"""Deliverable 2: bad input through the real plugin process.

Every credential field gets empty, whitespace, wrong-type, out-of-range and hostile values; every
model call gets empty texts, empty docs, unknown content parts and giant prompts. Each credential
case states its outcome: accepted (listed in ACCEPTED: a default applies or the value is valid) or
rejected as CredentialsValidateFailedError naming the field. Every call also must end with a typed
error or an answer — never an untyped one, never a hang, never the key in the message — and the
process keeps serving.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.helpers import API_KEY
from tests.reliability.hostile_server import CHAT_PIECES
from tests.reliability.plugin_harness import creds, llm_text, request
from tools.console import payloads

TYPED = {
    "CredentialsValidateFailedError",
    "InvokeBadRequestError",
    "InvokeConnectionError",
    "InvokeServerUnavailableError",
    "InvokeAuthorizationError",
    "InvokeRateLimitError",
}
CALL_TIMEOUT = 20.0
HOSTILE_ANSWER = "".join(CHAT_PIECES)  # "Hello world", the hostile server's good answer

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


def _run(plugin, data: dict):
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
        assert error_type in TYPED or sdk_rule, f"{data['action']}: untyped {error_type}: {message}"
        assert API_KEY not in result.error["message"], "the key leaked into an error message"
        assert API_KEY not in result.error.get("args", {}).get("traceback", "")
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


# The SDK checks parameters against the schema's rules (max_tokens 1..context 2048, temperature a
# 2-decimal float) before our code runs: its ValueError names the parameter. Anything else is sent.
@pytest.mark.parametrize(
    ("name", "parameters", "expected_error"),
    [
        ("negative-max-tokens", {"max_tokens": -5}, "Model Parameter max_tokens should be greater than"),
        ("temperature-string", {"temperature": "hot"}, "Model Parameter temperature should be float"),
        ("nan-temperature", {"temperature": float("nan")}, "Model Parameter temperature should be round"),
        ("huge-max-tokens", {"max_tokens": 10**12}, "Model Parameter max_tokens should be less than"),
        ("unknown-parameter", {"frobnicate": True}, None),
        ("stop-everything", {"stop": ["", "\n"] * 50}, None),
    ],
)
def test_llm_bad_parameters(plugin, hostile, name, parameters, expected_error):
    result = _run(
        plugin, _llm(hostile, [{"role": "user", "content": "hi"}], parameters=parameters, stream=False)
    )
    if expected_error is None:
        assert result.error is None and llm_text(result) == HOSTILE_ANSWER, result.error
    else:
        assert result.error["error_type"] == "ValueError", result.error
        assert result.error["message"].startswith(expected_error), result.error


def test_llm_bad_tools(plugin, hostile):
    """Odd tool definitions go to the server as given (it judges them); the answer comes back whole."""
    tools = [
        {"name": "", "description": "", "parameters": {}},
        {"name": "x" * 5000, "description": "", "parameters": {"type": "nonsense"}},
    ]
    result = _run(plugin, _llm(hostile, [{"role": "user", "content": "hi"}], tools=tools))
    assert result.error is None and llm_text(result) == HOSTILE_ANSWER, result.error


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


# None: nothing to speak -> InvokeBadRequestError; else the number of audio chunks (one per piece
# of at most 300 characters, README "Speech to text and text to speech")
@pytest.mark.parametrize(
    ("text", "chunks"),
    [("", None), ("   ", None), ("x" * 200_000, 667), ("\x00", 1)],
    ids=["empty", "blank", "200k", "nul"],
)
def test_tts_bad_text(plugin, hostile, text, chunks):
    data = payloads.tts("tts", creds(hostile.url("ok"), "tts-1", invoke_timeout="10"), text, "default")
    result = _run(plugin, data)
    if chunks is None:
        assert result.error["error_type"] == "InvokeBadRequestError", result.error
        assert "no text to speak" in result.error["message"]
    else:
        assert result.error is None, result.error
        assert len(result.chunks) == chunks and {c["mime_type"] for c in result.chunks} == {"audio/mpeg"}


# Only empty audio is refused before sending; any other bytes go to the server, which judges them
# (the hostile server transcribes everything as "hello from audio").
@pytest.mark.parametrize(
    ("audio", "transcript"),
    [(b"", None), (b"not audio at all", "hello from audio"), (b"RIFF\x00\x00", "hello from audio")],
    ids=["empty", "text", "truncated-wav"],
)
def test_stt_bad_audio(plugin, hostile, audio, transcript):
    result = _run(plugin, payloads.stt("stt", creds(hostile.url("ok"), "stt-1", invoke_timeout="10"), audio))
    if transcript is None:
        assert result.error["error_type"] == "InvokeBadRequestError", result.error
        assert "the audio file is empty" in result.error["message"]
    else:
        assert result.error is None and result.chunks == [{"result": transcript}], result.error


@pytest.mark.parametrize(
    "line", [b"{not json", b'{"event": "request"}', b"[]", b'"x"', b"\xff\xfe", b" " * 10]
)
def test_malformed_protocol_lines_do_not_kill_the_process(plugin, hostile, line):
    plugin.send_raw_line(line)
    result = plugin.call(request("embed", hostile.url("ok")), timeout=CALL_TIMEOUT)
    assert result.error is None and plugin.returncode is None
