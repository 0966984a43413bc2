"""Bad model calls: bad or extreme call input through the real plugin process.

Every model call gets empty texts, empty docs, unknown content parts, bad parameters and giant
prompts; the plugin also gets malformed protocol lines. Every case states its outcome — the typed
error (and the start of its message) or the answer — and every call ends without a hang, without
the key in the message, with the process still serving (bad_input_support.run_checked). Bad
credential values: test_plugin_bad_credentials.py.

What the plugin refuses itself and what it leaves to the server: content the model cannot read (by
the abilities the server reports) is refused before sending; the text of messages, embedding inputs
and rerank documents is the server's to judge, so the hostile server's answer comes back whole.
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


NO_AUDIO = ("InvokeBadRequestError", "This model cannot read audio: Xinference does not report the audio")
NO_VIDEO = ("InvokeBadRequestError", "This model cannot read a video: Xinference does not report the video")
NO_IMAGE = ("InvokeBadRequestError", "This model cannot read an image: Xinference does not report the vision")
NO_DOCUMENT = ("InvokeBadRequestError", "Xinference chat models cannot read document content parts")
# refused by the SDK's request model before the plugin's code runs
UNKNOWN_PART = ("ValidationError", "1 validation error for ModelInvokeLLMRequest")
ANSWER = None  # the server's answer ("Hello world") comes back whole

EXPECTED_PART_ERRORS = {"audio": NO_AUDIO, "video": NO_VIDEO, "document": NO_DOCUMENT}


@pytest.mark.parametrize(
    ("name", "messages", "expected"),
    [
        ("no-messages", [], ANSWER),
        ("empty-content", [{"role": "user", "content": ""}], ANSWER),
        ("null-content", [{"role": "user", "content": None}], ANSWER),
        ("empty-parts", [{"role": "user", "content": []}], ANSWER),
        ("whitespace", [{"role": "user", "content": "   \n\t "}], ANSWER),
        ("only-system", [{"role": "system", "content": "be terse"}], ANSWER),
        ("giant-prompt", [{"role": "user", "content": "word " * 600_000}], ANSWER),  # a 3 MB stdio line
        ("control-chars", [{"role": "user", "content": "\x00\x01\x1b[31m\ud7ff\ufffe"}], ANSWER),
        ("tool-result-without-call", [{"role": "tool", "content": "42", "tool_call_id": "call-x"}], ANSWER),
        *[
            (
                f"{t}-part",
                [{"role": "user", "content": [{"type": t, "data": "", "url": ""}]}],
                EXPECTED_PART_ERRORS[t],
            )
            for t in PART_TYPES
        ],
        # the URL goes to Xinference as is; the plugin must not fetch it (the child's guard would catch it)
        (
            "remote-image",
            [{"role": "user", "content": [payloads.image_part(url="https://example.com/cat.png")]}],
            NO_IMAGE,
        ),
        (
            "bad-base64-image",
            [{"role": "user", "content": [payloads.image_part(base64_data="%%%not base64")]}],
            NO_IMAGE,
        ),
        ("unknown-part", [{"role": "user", "content": [{"type": "hologram", "data": "x"}]}], UNKNOWN_PART),
    ],
)
@pytest.mark.parametrize("stream", [True, False], ids=["stream", "block"])
def test_llm_bad_messages(plugin, hostile, name, messages, expected, stream):
    result = run_checked(plugin, _llm(hostile, messages, stream=stream))
    if expected is ANSWER:
        assert result.error is None, f"{name}: {result.error}"
        assert llm_text(result) == HOSTILE_ANSWER, name
    else:
        assert result.error is not None, f"{name}: answered, expected {expected}"
        assert (result.error["error_type"], result.error["message"][: len(expected[1])]) == expected, (
            result.error
        )


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
    # every case is answered: empty and control texts are the server's to judge, the giant one is
    # truncated by the server (the form's default), 3,000 texts go in batches
    assert result.error is None, f"{name}: {result.error}"
    assert len(result.chunks[0]["embeddings"]) == len(texts), "one vector per text, none lost"


# every case is answered; `ranked` lists the document indexes returned, best first (the hostile
# server's scores fall with the index within each request: 1.0, 0.667 …)
@pytest.mark.parametrize(
    ("name", "query", "docs", "threshold", "top_n", "ranked"),
    [
        ("no-docs", "q", [], None, None, []),  # nothing to rank: no request
        ("empty-query", "", ["a", "b"], None, None, [0, 1]),
        ("empty-doc", "q", ["", "b"], None, None, [0, 1]),
        ("negative-top-n", "q", ["a", "b"], None, -3, [0, 1]),  # no usable limit: every document
        ("threshold-above-1", "q", ["a", "b"], 5.0, None, []),  # no score reaches it
        ("giant-doc", "q", ["word " * 400_000], None, None, [0]),
        # 5,000 documents go in batches of 256 (the form's default): each batch's first scores 1.0
        ("many-docs", "q", [f"d{i}" for i in range(5000)], None, 3, [0, 256, 512]),
    ],
)
def test_rerank_bad_input(plugin, hostile, name, query, docs, threshold, top_n, ranked):
    data = payloads.rerank(
        "rerank", creds(hostile.url("ok"), "rerank-1", invoke_timeout="10"), query, docs, threshold, top_n
    )
    result = run_checked(plugin, data)
    assert result.error is None, f"{name}: {result.error}"
    found = result.chunks[0]["docs"]
    assert [d["index"] for d in found] == ranked
    assert all(d["text"] == docs[d["index"]] for d in found)


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
