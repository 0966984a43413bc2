"""Tool results that carry files (Dify's Agent V2): never an error.

A tool message in Xinference's OpenAI-style API is text only, and chat templates render it as text.
Dify's Agent V2 hands back tool results that may hold images, audio, video or documents. Each file
part becomes a short placeholder in the tool message's text; the files the model can read (the
same switches as for user messages: Vision, Video, Audio, Document) follow in one user message after
the run of tool results, so the tool-call / tool-result sequence the templates expect stays intact.
A file the model cannot read is named in the placeholder instead, so the model knows it was there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dify_plugin.entities.model.message import PromptMessage, TextPromptMessageContent

from models.llm.schema import LLMProfile

PartJson = Callable[[Any, LLMProfile], dict[str, Any]]

# a file part's type (the SDK's content union: text and these four) -> the LLMProfile switch that reads it
_ABILITY = {"image": "vision", "video": "video", "audio": "audio", "document": "document"}


def split_tool_result(
    message: PromptMessage, profile: LLMProfile, part_json: PartJson
) -> tuple[str, list[dict[str, Any]]]:
    """(the tool message's text with a placeholder per file, the file parts to send after it)."""
    content = message.content
    if content is None or isinstance(content, str):
        return content or "", []
    texts: list[str] = []
    files: list[dict[str, Any]] = []
    for part in content:
        if isinstance(part, TextPromptMessageContent):
            texts.append(part.data)
            continue
        kind = part.type.value
        name = f" {part.filename}" if part.filename else ""  # every file part has one, "" by default
        if getattr(profile, _ABILITY[kind]):
            files.append(part_json(part, profile))
            texts.append(f"[{kind}{name}: attached in the next message]")
        else:
            texts.append(f"[{kind}{name} returned by the tool: this model cannot read {kind} files]")
    return "\n".join(t for t in texts if t), files


def files_message(files: list[dict[str, Any]]) -> dict[str, Any]:
    """The user message that hands the tool results' files to the model."""
    intro = {"type": "text", "text": "Files returned by the tool calls above:"}
    return {"role": "user", "content": [intro, *files]}
