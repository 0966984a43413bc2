"""The checks the Go daemon applies to what a model plugin sends back (runtime reference §2.4)."""

from __future__ import annotations

from typing import Any

from tools.console.runtime import PluginProcess, SessionResult


def ok(plugin: PluginProcess, data: dict, timeout: float = 60.0) -> SessionResult:
    """Call and insist on a clean session: chunks, no error, an end, and no protocol violation anywhere."""
    before = len(plugin.violations)
    result = plugin.call(data, timeout=timeout).raise_for_error()
    assert plugin.violations[before:] == []
    return result


def assert_llm_chunk(chunk: dict[str, Any]) -> None:
    """LLMResultChunk fields the daemon declares `validate:"required"`; a failure there is unmarshal_error."""
    assert isinstance(chunk.get("model"), str) and chunk["model"], chunk
    delta = chunk.get("delta")
    assert isinstance(delta, dict) and isinstance(delta.get("index"), int), chunk
    message = delta.get("message")
    assert isinstance(message, dict) and message.get("role") == "assistant", chunk
    assert isinstance(message.get("content"), (str, list)), chunk
    assert isinstance(message.get("tool_calls"), list), chunk


def llm_text(result: SessionResult) -> str:
    for chunk in result.chunks:
        assert_llm_chunk(chunk)
    return "".join(
        c["delta"]["message"]["content"]
        for c in result.chunks
        if isinstance(c["delta"]["message"]["content"], str)
    )


def llm_tool_calls(result: SessionResult) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    for chunk in result.chunks:
        assert_llm_chunk(chunk)
        calls.extend(chunk["delta"]["message"]["tool_calls"])
    return calls


def final_usage(result: SessionResult) -> dict[str, Any] | None:
    usages = [c["delta"]["usage"] for c in result.chunks if c["delta"].get("usage")]
    return usages[-1] if usages else None


def finish_reasons(result: SessionResult) -> list[str]:
    return [c["delta"]["finish_reason"] for c in result.chunks if c["delta"].get("finish_reason")]
