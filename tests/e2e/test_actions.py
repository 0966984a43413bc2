"""Every model action Dify uses, sent through the real plugin process to the replayed Xinference server."""

from __future__ import annotations

import io
import json
import wave

import pytest

from tests.e2e.daemon_checks import final_usage, finish_reasons, llm_text, llm_tool_calls, ok
from tools.console import payloads

pytestmark = pytest.mark.slow

HELLO = "Hello! I am a tiny test model."  # what the trained tiny model answers (fixtures README)
WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Current weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
USER_HI = [{"role": "user", "content": [payloads.text_part("Hello")]}]  # Dify sends text as a list of parts
USER_WEATHER = [
    {"role": "system", "content": "You are helpful."},
    {"role": "user", "content": "What's the weather like in Paris?"},
]


def _posts(replay, path: str) -> list[dict]:
    return [json.loads(body) for method, p, _h, body in replay.requests if method == "POST" and p == path]


def _merged_calls(calls: list[dict]) -> dict[str, dict]:
    merged: dict[str, dict] = {}
    for call in calls:
        entry = merged.setdefault(call["id"], {"name": "", "arguments": ""})
        entry["name"] = call["function"]["name"] or entry["name"]
        entry["arguments"] += call["function"]["arguments"]
    return merged


def test_validate_model_credentials(plugin, creds):
    credentials = creds("llm", "test-llm")
    result = ok(plugin, payloads.validate("llm", "test-llm", credentials))
    assert result.chunks[0]["result"] is True


def test_llm_schema_shows_mode_context_and_tool_features(plugin, creds):
    schema = ok(plugin, payloads.schema("llm", "test-llm", creds("llm", "test-llm"))).chunks[0][
        "model_schema"
    ]
    assert schema["model"] == "test-llm" and schema["model_type"] == "llm"
    assert schema["model_properties"] == {"mode": "chat", "context_size": 2048}
    assert "tool-call" in schema["features"]
    assert {rule["name"] for rule in schema["parameter_rules"]} >= {"temperature", "max_tokens"}


def test_embedding_schema_reports_the_servers_input_limit(plugin, creds):
    credentials = creds("text-embedding", "test-embed")
    schema = ok(plugin, payloads.schema("text-embedding", "test-embed", credentials)).chunks[0][
        "model_schema"
    ]
    assert schema["model_type"] == "text-embedding" and schema["model_properties"]["context_size"] == 256


def test_invoke_llm_stream(plugin, creds, replay):
    replay.reset()
    data = payloads.invoke_llm("test-tiny-qwen2-tools", creds("llm", "test-tiny-qwen2-tools"), USER_HI)
    result = ok(plugin, data)
    assert llm_text(result) == HELLO
    assert len(result.chunks) > 3  # streamed piece by piece, not buffered into one chunk
    assert finish_reasons(result)[-1] == "stop"
    usage = final_usage(result)
    assert usage and usage["prompt_tokens"] == 21 and usage["completion_tokens"] == 16
    (sent,) = _posts(replay, "/v1/chat/completions")
    assert sent["stream"] is True and sent["messages"][-1]["content"] in (
        "Hello",
        [{"type": "text", "text": "Hello"}],
    )


def test_invoke_llm_blocking_with_tools(plugin, creds, replay):
    replay.reset()
    credentials = creds("llm", "test-tiny-qwen2-tools")
    data = payloads.invoke_llm(
        "test-tiny-qwen2-tools", credentials, USER_WEATHER, tools=[WEATHER_TOOL], stream=False
    )
    result = ok(plugin, data)
    assert len(result.chunks) == 1  # the SDK turns an LLMResult into exactly one chunk
    (call,) = llm_tool_calls(result)
    assert call["function"]["name"] == "get_weather" and json.loads(call["function"]["arguments"]) == {
        "city": "Paris"
    }
    assert final_usage(result)["prompt_tokens"] == 146
    (sent,) = _posts(replay, "/v1/chat/completions")
    assert sent["tools"][0]["function"]["name"] == "get_weather" and not sent.get("stream")


def test_a_turn_after_a_plain_assistant_answer_reaches_the_server(plugin, creds, replay):
    """Dify sends an assistant history message with `tool_calls: []` (null only for other roles, which the
    SDK's AssistantPromptMessage would refuse); the console's payload must match that."""
    replay.reset()
    history = [{"role": "user", "content": "Hello"}, {"role": "assistant", "content": HELLO}, *USER_HI]
    data = payloads.invoke_llm("test-tiny-qwen2-tools", creds("llm", "test-tiny-qwen2-tools"), history)
    assert data["prompt_messages"][1]["tool_calls"] == []
    ok(plugin, data)
    (sent,) = _posts(replay, "/v1/chat/completions")
    assert [m["role"] for m in sent["messages"]] == ["user", "assistant", "user"]


def test_invoke_llm_stream_with_tools(plugin, creds):
    credentials = creds("llm", "test-tiny-qwen2-tools")
    result = ok(
        plugin, payloads.invoke_llm("test-tiny-qwen2-tools", credentials, USER_WEATHER, tools=[WEATHER_TOOL])
    )
    calls = _merged_calls(llm_tool_calls(result))
    assert [c["name"] for c in calls.values()] == ["get_weather"]
    assert json.loads(next(iter(calls.values()))["arguments"]) == {"city": "Paris"}
    assert "<tool_call>" not in llm_text(result)  # the raw markup must not leak into the answer


def test_invoke_llm_reasoning_keeps_thoughts_and_answer(plugin, creds):
    result = ok(plugin, payloads.invoke_llm("test-reasoning", creds("llm", "test-reasoning"), USER_HI))
    text = llm_text(result)
    assert "The user greets me." in text and text.rstrip().endswith(HELLO)


def test_invoke_llm_agent_turn_after_a_tool_result(plugin, creds, replay):
    replay.reset()
    history = [
        *USER_WEATHER,
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [payloads.tool_call("call_1", "get_weather", '{"city": "Paris"}')],
        },
        {"role": "tool", "content": '{"temp_c": 18}', "tool_call_id": "call_1", "name": "get_weather"},
    ]
    data = payloads.invoke_llm(
        "test-reasoning", creds("llm", "test-reasoning"), history, tools=[WEATHER_TOOL]
    )
    result = ok(plugin, data)
    assert llm_text(result).rstrip().endswith(HELLO) and _merged_calls(llm_tool_calls(result)) == {}
    (sent,) = _posts(replay, "/v1/chat/completions")
    assistant, tool = sent["messages"][-2:]
    assert assistant["tool_calls"][0]["function"] == {"name": "get_weather", "arguments": '{"city": "Paris"}'}
    assert tool["role"] == "tool" and tool["tool_call_id"] == "call_1"


def test_get_llm_num_tokens(plugin, creds):
    result = ok(
        plugin, payloads.llm_num_tokens("test-llm", creds("llm", "test-llm"), USER_WEATHER, [WEATHER_TOOL])
    )
    assert isinstance(result.chunks[0]["num_tokens"], int) and result.chunks[0]["num_tokens"] > 5


def test_invoke_text_embedding(plugin, creds, replay):
    texts = ["first", "second text", "third one here"]
    data = payloads.embed("test-embed", creds("text-embedding", "test-embed"), texts, input_type="query")
    (result,) = ok(plugin, data).chunks
    assert result["embeddings"] == [replay.vectors[i] for i in range(3)]  # order kept, values unchanged
    assert result["usage"]["tokens"] > 0 and result["model"] == "test-embed"


def test_get_text_embedding_num_tokens(plugin, creds):
    data = payloads.embed_num_tokens(
        "test-embed", creds("text-embedding", "test-embed"), ["one", "two words", ""]
    )
    counts = ok(plugin, data).chunks[0]["num_tokens"]
    assert len(counts) == 3 and all(isinstance(n, int) for n in counts) and counts[1] >= counts[0]


def test_invoke_rerank_with_daemon_zero_defaults(plugin, creds):
    docs = ["Berlin is in Germany.", "Paris is the capital of France.", "Bananas are yellow."]
    data = payloads.rerank("test-rerank", creds("rerank", "test-rerank"), "capital of France", docs)
    assert data["top_n"] == 0 and data["score_threshold"] == 0  # what the daemon sends for "not set"
    ranked = ok(plugin, data).chunks[0]["docs"]
    assert len(ranked) == 3  # 0 means "all", not "none"
    assert ranked[0]["index"] == 1 and ranked[0]["text"] == docs[1]
    assert [d["score"] for d in ranked] == sorted((d["score"] for d in ranked), reverse=True)
    assert all(docs[d["index"]] == d["text"] for d in ranked)


def test_invoke_rerank_top_n(plugin, creds):
    data = payloads.rerank(
        "test-rerank", creds("rerank", "test-rerank"), "France", ["a", "France b", "c"], top_n=1
    )
    assert [d["index"] for d in ok(plugin, data).chunks[0]["docs"]] == [1]


def test_get_tts_model_voices(plugin, creds):
    voices = ok(plugin, payloads.tts_voices("test-tts", creds("tts", "test-tts"))).chunks[0]["voices"]
    assert voices and all(v["name"] and v["value"] for v in voices)
    assert "alloy" in {v["value"] for v in voices}  # ChatTTS keeps the official plugin's names


def test_invoke_tts(plugin, creds, replay):
    replay.reset()
    data = payloads.tts("test-tts", creds("tts", "test-tts"), "Hello there. This is a test.", "alloy")
    result = ok(plugin, data)
    audio = b"".join(bytes.fromhex(chunk["result"]) for chunk in result.chunks)
    # an ID3 tag, a WAV header or an MPEG-1/-2 layer III frame (the recorded Kokoro MP3 is MPEG-2, 24 kHz)
    assert len(audio) > 400 and (audio[:3] in (b"ID3", b"RIF") or audio[:2] in (b"\xff\xfb", b"\xff\xf3"))
    sent = _posts(replay, "/v1/audio/speech")
    assert sent and all(body["model"] == "test-tts" for body in sent)


def test_invoke_speech2text(plugin, creds, replay):
    replay.reset()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as clip:  # 0.1 s of 16 kHz mono silence: a real WAV, as Dify records it
        clip.setnchannels(1)
        clip.setsampwidth(2)
        clip.setframerate(16000)
        clip.writeframes(b"\x00\x00" * 1600)
    data_bytes = buffer.getvalue()
    result = ok(plugin, payloads.stt("test-stt", creds("speech2text", "test-stt"), data_bytes))
    assert result.chunks[0]["result"] == "The quick brown fox jumps over the lazy dog."
    uploads = [body for method, path, _h, body in replay.requests if path == "/v1/audio/transcriptions"]
    assert len(uploads) == 1 and data_bytes in uploads[0]  # the bytes Dify sent reached the server intact


def test_no_protocol_violations(plugin):
    assert plugin.violations == [] and plugin.top_level_events == []
