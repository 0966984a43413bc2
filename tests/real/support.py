"""Constants and helpers shared by the tests against a real Xinference (see conftest.py)."""

from __future__ import annotations

import json
import os
from typing import Any

OPEN_URL = os.environ.get("XINFERENCE_REAL_URL", "")
AUTH_URL = os.environ.get("XINFERENCE_REAL_AUTH_URL", "")
UIDS: dict[str, str] = json.loads(os.environ.get("XINFERENCE_REAL_UIDS") or "{}")

HELLO = "Hello! I am a tiny test model."
THINK = "<think>\nThe user greets me.\n</think>\n\n"
WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Get the current weather for a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string", "description": "City name"}},
        "required": ["city"],
    },
}


def credentials(uid: str, url: str | None = None, **extra: Any) -> dict[str, Any]:
    """What Dify stores for one model: strings, the switch as a boolean."""
    creds: dict[str, Any] = {
        "server_url": url or OPEN_URL,
        "model_uid": uid,
        "invoke_timeout": "60",
        "max_retries": "1",
        "tls_verify": True,
    }
    creds.update(extra)
    return creds


def call(plugin, data: dict, timeout: float = 120):
    """Run one action; returns the SessionResult (ended, with `error` None or the plugin's error)."""
    result = plugin.call(data, timeout=timeout)
    assert result.ended, f"session {result.session_id} did not end: {result.violation}"
    return result


def ok(plugin, data: dict, timeout: float = 120) -> list[dict]:
    """Run one action that must succeed; returns its stream chunks."""
    result = call(plugin, data, timeout)
    assert result.error is None, f"{result.error.get('error_type')}: {result.error.get('message')}"
    return result.chunks


def error_of(plugin, data: dict, timeout: float = 120) -> dict:
    """Run one action that must fail; returns the error dict (error_type, message, args)."""
    result = call(plugin, data, timeout)
    assert result.error is not None, (
        f"expected an error, got {len(result.chunks)} chunk(s): {str(result.chunks[:2])[:300]}"
    )
    return result.error


def llm_text(chunks: list[dict]) -> str:
    return "".join(c["delta"]["message"].get("content") or "" for c in chunks)


def llm_tool_calls(chunks: list[dict]) -> list[dict]:
    return [tc for c in chunks for tc in (c["delta"]["message"].get("tool_calls") or [])]


def llm_usage(chunks: list[dict]) -> dict:
    usages = [c["delta"]["usage"] for c in chunks if c["delta"].get("usage")]
    assert usages, "no chunk carried usage"
    return usages[-1]
