"""Dify prompt messages -> Xinference's OpenAI-style `messages`, or one prompt for completion mode.

Nothing is dropped silently: a content part the model cannot take (an image for a model without
vision, a document, …) is a clear InvokeBadRequestError that says what to change.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from dify_plugin.entities.model.message import (
    AssistantPromptMessage,
    AudioPromptMessageContent,
    DocumentPromptMessageContent,
    ImagePromptMessageContent,
    PromptMessage,
    PromptMessageContent,
    PromptMessageRole,
    PromptMessageTool,
    TextPromptMessageContent,
    ToolPromptMessage,
    VideoPromptMessageContent,
)
from dify_plugin.errors.model import InvokeBadRequestError

from models._xinference.tokens import estimate_tokens
from models.llm.reasoning_request import opaque_reasoning, replay_reasoning, strip_history_reasoning
from models.llm.schema import LLMProfile
from models.llm.tool_results import files_message, split_tool_result

# Dify's "developer" role is OpenAI's newer name for system; Xinference templates know only system.
_ROLES = {
    PromptMessageRole.SYSTEM: "system",
    PromptMessageRole.DEVELOPER: "system",
    PromptMessageRole.USER: "user",
    PromptMessageRole.ASSISTANT: "assistant",
    PromptMessageRole.TOOL: "tool",
}
_OVERRIDE_HINT = "set {field} to Supported in this model's settings in Dify if the server is wrong about it"


def chat_messages(prompt_messages: Sequence[PromptMessage], profile: LLMProfile) -> list[dict[str, Any]]:
    tool_names: dict[str, str] = {}  # tool_call_id -> function name, for tool messages without a name
    messages: list[dict[str, Any]] = []
    tool_files: list[dict[str, Any]] = []  # files from a run of tool results, sent after it
    for message in prompt_messages:
        role = _ROLES[message.role]
        if tool_files and not isinstance(message, ToolPromptMessage):
            messages.append(files_message(tool_files))
            tool_files = []
        if isinstance(message, AssistantPromptMessage) and message.tool_calls:
            calls = [tool_call_json(call) for call in message.tool_calls]
            tool_names.update((c["id"], c["function"]["name"]) for c in calls)
            entry = {"role": role, "content": text_of(message), "tool_calls": calls}
            if reasoning := opaque_reasoning(message):
                entry["reasoning_content"] = reasoning
            messages.append(entry)
        elif isinstance(message, ToolPromptMessage):
            name = message.name or tool_names.get(message.tool_call_id)
            text, files = split_tool_result(message, profile, _part)
            tool_files += files
            entry = {"role": role, "tool_call_id": message.tool_call_id, "content": text}
            messages.append(entry | ({"name": name} if name else {}))
        elif role == "user":
            messages.append({"role": role, "content": _user_content(message, profile)})
        else:
            messages.append({"role": role, "content": text_of(message)})
    if tool_files:
        messages.append(files_message(tool_files))
    messages = replay_reasoning(strip_history_reasoning(messages), profile.family)
    return _system_first(messages, anywhere=profile.system_first)


def tool_call_json(call: AssistantPromptMessage.ToolCall) -> dict[str, Any]:
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.function.name, "arguments": call.function.arguments or "{}"},
    }


def tools_json(tools: Sequence[PromptMessageTool]) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {"name": t.name, "description": t.description, "parameters": t.parameters},
        }
        for t in tools
    ]


def text_of(message: PromptMessage) -> str:
    """The text of a message that can only carry text (system, assistant, tool)."""
    content = message.content
    if content is None or isinstance(content, str):
        return content or ""
    others = [part.type.value for part in content if not isinstance(part, TextPromptMessageContent)]
    if others:
        raise InvokeBadRequestError(
            f"A {message.role.value} message can only contain text, but this one holds {', '.join(others)} "
            "content; move files into a user message"
        )
    return "".join(part.data for part in content if isinstance(part, TextPromptMessageContent))


def _user_content(message: PromptMessage, profile: LLMProfile) -> str | list[dict[str, Any]]:
    content = message.content
    if content is None or isinstance(content, str):
        return content or ""
    parts = [_part(part, profile) for part in content]
    if len(parts) == 1 and parts[0]["type"] == "text":
        return parts[0]["text"]
    return parts


def _part(part: PromptMessageContent, profile: LLMProfile) -> dict[str, Any]:
    if isinstance(part, TextPromptMessageContent):
        return {"type": "text", "text": part.data}
    if isinstance(part, ImagePromptMessageContent):
        _require(profile.vision, "an image", "vision", "Vision")
        return {"type": "image_url", "image_url": {"url": part.data, "detail": part.detail.value}}
    if isinstance(part, VideoPromptMessageContent):
        _require(profile.video, "a video", "video (or omni)", "Video input")
        return {"type": "video_url", "video_url": {"url": part.data}}
    if isinstance(part, AudioPromptMessageContent):
        _require(profile.audio, "audio", "audio (or omni)", "Audio input")
        return {"type": "audio_url", "audio_url": {"url": part.data}}
    if isinstance(part, DocumentPromptMessageContent) and profile.document:
        # Xinference's chat API takes no document part (4.1.0); *supported* is for a server in
        # front of it that does: OpenAI's file part, as such servers read it.
        file = {"file_data": part.data} | ({"filename": part.filename} if part.filename else {})
        return {"type": "file", "file": file}
    raise InvokeBadRequestError(
        f"Xinference chat models cannot read {part.type.value} content parts (its chat API takes images, "
        "video and audio only); convert the file to text first (e.g. with a Document Extractor node)"
    )


def _require(able: bool, what: str, ability: str, override_field: str | None) -> None:
    if able:
        return
    message = f"This model cannot read {what}: Xinference does not report the {ability} ability for it"
    if override_field:
        message += "; " + _OVERRIDE_HINT.format(field=override_field)
    raise InvokeBadRequestError(message)


def _system_first(messages: list[dict[str, Any]], *, anywhere: bool) -> list[dict[str, Any]]:
    """One system message at the start: the leading run of system messages merged (Agent V2 sends
    several; many templates read only messages[0]), and with `anywhere` (templates flagged
    strict_system_first, which refuse a later one) every system message moved there too."""
    lead = 0
    while lead < len(messages) and messages[lead]["role"] == "system":
        lead += 1
    moved = [m for m in messages[lead:] if m["role"] == "system"] if anywhere else []
    if not lead and not moved:  # no system message at all
        return messages
    system = [m["content"] for m in messages[:lead] + moved]
    rest = [m for m in messages[lead:] if not (anywhere and m["role"] == "system")]
    return [{"role": "system", "content": "\n\n".join(system)}, *rest]


def completion_prompt(
    prompt_messages: Sequence[PromptMessage], tools: Sequence[PromptMessageTool] | None
) -> str:
    """One prompt for /v1/completions. A lone message is sent as it is (Dify's completion apps send
    one); a conversation becomes a plain transcript that ends where the assistant should continue."""
    if tools:
        raise InvokeBadRequestError(
            "This model is generate-only (completion mode) and cannot call tools; use a model with the "
            "chat and tools abilities, or an agent strategy that does not need function calling"
        )
    rendered: list[tuple[str, str]] = []
    for message in prompt_messages:
        if isinstance(message, ToolPromptMessage) or (
            isinstance(message, AssistantPromptMessage) and message.tool_calls
        ):
            raise InvokeBadRequestError(
                "A completion-mode model cannot continue a conversation with tool calls in it"
            )
        try:
            text = text_of(message)
        except InvokeBadRequestError:
            raise InvokeBadRequestError(
                "This model is generate-only (completion mode): its prompt can only be text, but a message "
                "holds files"
            ) from None
        rendered.append((_ROLES[message.role], text))
    rendered = [
        (m["role"], m["content"])
        for m in strip_history_reasoning([{"role": r, "content": t} for r, t in rendered])
    ]
    if len(rendered) == 1:
        return rendered[0][1]
    lines = [text if role == "system" else f"{role.capitalize()}: {text}" for role, text in rendered]
    if rendered and rendered[-1][0] != "assistant":
        lines.append("Assistant:")
    return "\n\n".join(lines)


def estimate_prompt_tokens(
    prompt_messages: Sequence[PromptMessage], tools: Sequence[PromptMessageTool] | None
) -> int:
    """Offline estimate of what the chat template makes of the messages (ChatML-like framing)."""
    total = 3  # the assistant turn the template opens for the answer: <|im_start|>assistant\n
    for message in prompt_messages:
        total += 5 + _content_tokens(message.content)  # <|im_start|>role\n … <|im_end|>\n
        if isinstance(message, AssistantPromptMessage):
            for call in message.tool_calls:
                total += 8 + estimate_tokens(call.function.name) + estimate_tokens(call.function.arguments)
    if tools:
        total += 10 + estimate_tokens(json.dumps(tools_json(tools), ensure_ascii=False))
    return total


# A rough, fixed price for a file part: engines differ widely (an image is 64 to thousands of tokens).
_FILE_PART_TOKENS = 256


def _content_tokens(content: Any) -> int:
    if content is None:
        return 0
    if isinstance(content, str):
        return estimate_tokens(content)
    return sum(
        estimate_tokens(part.data) if isinstance(part, TextPromptMessageContent) else _FILE_PART_TOKENS
        for part in content
    )
