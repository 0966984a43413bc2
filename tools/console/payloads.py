"""Request `data` dicts shaped exactly as the Dify daemon sends them for each model action.

The daemon merges {"user_id","type","action"} into its request struct and serialises it with Go's
encoding/json: map keys sorted, every non-omitempty field present (nil slices as null), and numbers
the user left out sent as 0 (rerank top_n / score_threshold). The SDK treats several of these keys
as required-but-nullable, so leaving one out is a ValidationError the real daemon never triggers.
"""

from __future__ import annotations

from typing import Any

PROVIDER = "xinference"
USER_ID = "00000000-0000-4000-8000-0000000c0501"  # fixed, so logs of console runs are easy to spot
TENANT_ID = "00000000-0000-4000-8000-00000000a001"
_PART_FIELDS = ("base64_data", "data", "detail", "encode_format", "filename", "format", "mime_type", "url")


def _go(value: Any) -> Any:
    """Sort keys recursively, as Go writes a map."""
    if isinstance(value, dict):
        return {k: _go(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_go(v) for v in value]
    return value


def _base(action: str, model_type: str | None, model: str | None, credentials: dict, **extra: Any) -> dict:
    data: dict[str, Any] = {"action": action, "credentials": credentials, "provider": PROVIDER}
    data.update(type="model", user_id=USER_ID, **extra)
    if model_type is not None:
        data.update(model=model, model_type=model_type)
    return _go(data)


def text_part(text: str) -> dict:
    return {**dict.fromkeys(_PART_FIELDS, ""), "type": "text", "data": text}


def image_part(url: str = "", base64_data: str = "", mime_type: str = "image/png") -> dict:
    return {
        **dict.fromkeys(_PART_FIELDS, ""),
        "type": "image",
        "url": url,
        "base64_data": base64_data,
        "mime_type": mime_type,
        "format": mime_type.rpartition("/")[2],
        "detail": "low",
    }


def message(role: str, content: str | list | None, **fields: Any) -> dict:
    """A PromptMessage as Dify's Go struct sends it: name/tool_call_id "" when unset; tool_calls null, except
    for an assistant message, whose Python model always carries a list (an empty one decodes to [] in Go)."""
    if isinstance(content, list):
        content = [{**dict.fromkeys(_PART_FIELDS, ""), **part} for part in content]
    calls: list | None = [] if role == "assistant" else None
    msg = {"role": role, "content": content, "name": "", "tool_call_id": "", "tool_calls": calls}
    msg.update(fields)
    return _go(msg)


def tool_call(call_id: str, name: str, arguments: str) -> dict:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def _messages(messages: list[dict]) -> list[dict]:
    return [
        message(m["role"], m.get("content"), **{k: v for k, v in m.items() if k not in ("role", "content")})
        for m in messages
    ]


def validate(model_type: str, model: str, credentials: dict) -> dict:
    return _base("validate_model_credentials", model_type, model, credentials)


def validate_provider(credentials: dict) -> dict:
    return _base("validate_provider_credentials", None, None, credentials)


def schema(model_type: str, model: str, credentials: dict) -> dict:
    return _base("get_ai_model_schemas", model_type, model, credentials)


def invoke_llm(
    model: str,
    credentials: dict,
    messages: list[dict],
    *,
    tools: list[dict] | None = None,
    stream: bool = True,
    parameters: dict | None = None,
    stop: list[str] | None = None,
) -> dict:
    return _base(
        "invoke_llm",
        "llm",
        model,
        credentials,
        prompt_messages=_messages(messages),
        model_parameters=parameters or {},
        stop=stop,
        stream=stream,
        tools=tools,
        json_schema=None,
    )


def llm_num_tokens(
    model: str, credentials: dict, messages: list[dict], tools: list[dict] | None = None
) -> dict:
    return _base(
        "get_llm_num_tokens", "llm", model, credentials, prompt_messages=_messages(messages), tools=tools
    )


def embed(model: str, credentials: dict, texts: list[str], input_type: str = "document") -> dict:
    return _base(
        "invoke_text_embedding", "text-embedding", model, credentials, texts=texts, input_type=input_type
    )


def embed_num_tokens(model: str, credentials: dict, texts: list[str]) -> dict:
    return _base("get_text_embedding_num_tokens", "text-embedding", model, credentials, texts=texts)


def rerank(  # noqa: PLR0917  (positional order is the documented interface)
    model: str,
    credentials: dict,
    query: str,
    docs: list[str],
    score_threshold: float | None = None,
    top_n: int | None = None,
) -> dict:
    return _rerank("invoke_rerank", model, credentials, query, docs, score_threshold, top_n)


def _rerank(  # noqa: PLR0917
    action: str,
    model: str,
    credentials: dict,
    query: Any,
    docs: list,
    threshold: float | None,
    top_n: int | None,
) -> dict:
    # Go sends the zero value for numbers Dify leaves unset, never null.
    return _base(
        action,
        "rerank",
        model,
        credentials,
        query=query,
        docs=docs,
        score_threshold=threshold or 0,
        top_n=top_n or 0,
    )


def tts(model: str, credentials: dict, text: str, voice: str) -> dict:
    return _base("invoke_tts", "tts", model, credentials, content_text=text, voice=voice, tenant_id=TENANT_ID)


def tts_voices(model: str, credentials: dict, language: str | None = None) -> dict:
    return _base("get_tts_model_voices", "tts", model, credentials, language=language)


def stt(model: str, credentials: dict, audio: bytes) -> dict:
    return _base("invoke_speech2text", "speech2text", model, credentials, file=audio.hex())


def content(kind: str, value: str, file_id: str = "") -> dict:
    """A MultiModalContent as Dify sends it: images as the raw base64 of the file, plus a file id."""
    return {"content": value, "content_type": kind, "file_id": file_id or None}


def embed_multimodal(
    model: str, credentials: dict, documents: list[dict], input_type: str = "document"
) -> dict:
    return _base(
        "invoke_multimodal_embedding",
        "text-embedding",
        model,
        credentials,
        documents=documents,
        input_type=input_type,
    )


def rerank_multimodal(  # noqa: PLR0917  (same order as rerank)
    model: str,
    credentials: dict,
    query: dict,
    docs: list[dict],
    score_threshold: float | None = None,
    top_n: int | None = None,
) -> dict:
    return _rerank("invoke_multimodal_rerank", model, credentials, query, docs, score_threshold, top_n)
