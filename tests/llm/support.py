"""Shared pieces of the LLM tests: recorded descriptions and answers, and ways to read results."""

from __future__ import annotations

import json
from typing import Any

import responses
from dify_plugin.entities.model.llm import LLMResultChunk
from dify_plugin.entities.model.message import PromptMessage, PromptMessageTool, UserPromptMessage

from models._xinference.process_state import reset_process_state
from models.llm.llm import XinferenceLargeLanguageModel
from tests.helpers import SERVER, fixture_bytes, fixture_json, raw_credentials

CHAT_URL = f"{SERVER}/v1/chat/completions"
COMPLETIONS_URL = f"{SERVER}/v1/completions"
SSE = "text/event-stream; charset=utf-8"

# uid -> the recorded description of that model
DESCRIPTIONS = {
    "test-llm": "llm_04_get_model.json",  # chat + tools, random weights
    "test-llm-base": "llm_15_get_model_generate_only.json",  # generate only
    "test-reasoning": "reasoning_A02_get_model.json",  # chat, tools, reasoning, hybrid
    "test-llm-tools": "tools_05_get_model.json",  # trained to call get_weather
}
WEATHER_TOOL = PromptMessageTool(
    name="get_weather",
    description="Current weather in a city",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


def creds(uid: str = "test-llm", **overrides: Any) -> dict[str, Any]:
    return raw_credentials(model_uid=uid, **overrides)


def model() -> XinferenceLargeLanguageModel:
    return XinferenceLargeLanguageModel(model_schemas=[])


def description(uid: str = "test-llm", drop: tuple[str, ...] = (), **override: Any) -> dict[str, Any]:
    body = fixture_json(DESCRIPTIONS.get(uid, "llm_04_get_model.json"))
    body.update(override)
    return {k: v for k, v in body.items() if k not in drop}


def add_description(
    mock: responses.RequestsMock, uid: str = "test-llm", drop: tuple[str, ...] = (), **override: Any
):
    mock.get(f"{SERVER}/v1/models/{uid}", json=description(uid, drop, **override))


def add_stream(mock: responses.RequestsMock, body: bytes | str, url: str = CHAT_URL) -> None:
    """An SSE answer: a fixture file name, or the raw bytes of the stream."""
    if isinstance(body, str):
        body = fixture_bytes(body)
    mock.post(url, body=body, content_type=SSE)


def sse(*events: Any, done: bool = True) -> bytes:
    frames = [f"data: {json.dumps(e)}\r\n\r\n" for e in events]
    if done:
        frames.append("data: [DONE]\r\n\r\n")
    return "".join(frames).encode()


def chunk(delta: dict[str, Any] | None = None, finish: str | None = None, **extra: Any) -> dict[str, Any]:
    """One chat.completion.chunk with a single choice."""
    event = {
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": delta or {}, "finish_reason": finish}],
    }
    return event | extra


def sent_bodies(mock: responses.RequestsMock) -> list[dict[str, Any]]:
    return [json.loads(call.request.body) for call in mock.calls if call.request.method == "POST"]


def hello() -> list[PromptMessage]:
    return [UserPromptMessage(content="Hello, who are you?")]


def invoke(
    uid: str = "test-llm",
    messages: list[PromptMessage] | None = None,
    params: dict | None = None,
    *,
    stream: bool = True,
    tools: list[PromptMessageTool] | None = None,
    stop: list[str] | None = None,
    **cred_overrides: Any,
) -> list[LLMResultChunk]:
    """The public SDK entry point, as the plugin daemon calls it; returns every chunk."""
    result = model().invoke(
        uid, creds(uid, **cred_overrides), messages or hello(), params or {}, tools, stop, stream, "user-1"
    )
    return list(result)


def answer_to(
    body: Any,
    *,
    uid: str = "test-reasoning",
    stream: bool = True,
    params: dict | None = None,
    tools: list[PromptMessageTool] | None = None,
    **description_override: Any,
) -> list[LLMResultChunk]:
    """Every chunk of one call whose server answers `body`: SSE bytes (or a fixture name) when streamed,
    a JSON answer when not; fresh process state, so no remembered refusal or cached schema leaks in."""
    reset_process_state()
    with responses.RequestsMock() as mock:
        add_description(mock, uid, **description_override)
        if stream:
            add_stream(mock, body)
        else:
            mock.post(CHAT_URL, json=body)
        return invoke(uid, params=params, stream=stream, tools=tools)


def content(chunks: list[LLMResultChunk]) -> str:
    return "".join(c.delta.message.content for c in chunks if isinstance(c.delta.message.content, str))


def tool_calls(chunks: list[LLMResultChunk]) -> list[tuple[str, str]]:
    return [(t.function.name, t.function.arguments) for c in chunks for t in c.delta.message.tool_calls]
