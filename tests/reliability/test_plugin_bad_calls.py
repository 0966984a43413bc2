"""Bad model calls: bad or extreme call input through the real plugin process.

Every model call gets empty texts, empty docs, unknown content parts, bad parameters and giant
prompts; the plugin also gets malformed protocol lines. Every call must end with a typed error or
an answer — never an untyped one, never a hang, never the key in the message — and the process
keeps serving (bad_input_support.run_checked). Bad credential values: test_plugin_bad_credentials.py.
"""

from __future__ import annotations

import pytest

from tests.reliability.bad_input_support import CALL_TIMEOUT, run_checked
from tests.reliability.hostile_server import CHAT_PIECES
from tests.reliability.plugin_harness import creds, llm_text, request
from tools.console import payloads

HOSTILE_ANSWER = "".join(CHAT_PIECES)  # "Hello world", the hostile server's good answer

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
    result = run_checked(plugin, _llm(hostile, messages, stream=stream))
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
    result = run_checked(
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
    result = run_checked(plugin, _llm(hostile, [{"role": "user", "content": "hi"}], tools=tools))
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
    result = run_checked(plugin, data)
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
    result = run_checked(plugin, data)
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
    result = run_checked(plugin, data)
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
    result = run_checked(
        plugin, payloads.stt("stt", creds(hostile.url("ok"), "stt-1", invoke_timeout="10"), audio)
    )
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
