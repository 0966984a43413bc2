"""Human-readable output of the console (the --json output is the plugin's own data instead)."""

from __future__ import annotations

import math
from typing import Any

_TYPES = {"llm": "llm", "embedding": "text-embedding", "rerank": "rerank", "audio": "audio", "image": "image"}


def model_row(item: dict[str, Any]) -> dict[str, Any]:
    kind = str(item.get("model_type", "")).lower()
    abilities = item.get("model_ability") or []
    context = item.get("context_length") if kind == "llm" else item.get("max_tokens")
    return {
        "uid": item.get("id", ""),
        "type": _TYPES.get(kind, kind),
        "abilities": [abilities] if isinstance(abilities, str) else list(abilities),
        "context": context,
        "model_name": item.get("model_name", ""),
    }


def models_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "no models are running on this server"
    table = [("UID", "TYPE", "ABILITIES", "CONTEXT", "MODEL")]
    table += [
        (r["uid"], r["type"], ", ".join(r["abilities"]) or "-", str(r["context"] or "-"), r["model_name"])
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(4)]
    return "\n".join(
        "  ".join(col.ljust(w) for col, w in zip(row, widths, strict=False)) + "  " + row[4] for row in table
    ).rstrip()


def _num(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # the SDK turns int bounds into floats; 2048.0 reads badly
    return str(value)


def _rule(rule: dict[str, Any]) -> str:
    bounds = ""
    if rule.get("min") is not None or rule.get("max") is not None:
        low, high = rule.get("min"), rule.get("max")
        bounds = f"  [{'' if low is None else _num(low)}..{'' if high is None else _num(high)}]"
    options = f"  options {', '.join(map(str, rule['options']))}" if rule.get("options") else ""
    default = f"  default {_num(rule['default'])}" if rule.get("default") is not None else ""
    required = "  required" if rule.get("required") else ""
    return f"    {rule.get('name', '?'):<22} {rule.get('type', ''):<8}{default}{bounds}{options}{required}"


def check_report(uid: str, model_type: str, server_url: str, schema: dict[str, Any] | None) -> str:
    lines = [f"{uid} ({model_type}) on {server_url}: credentials are valid"]
    if not schema:
        return "\n".join([*lines, "  the plugin returned no model schema: Dify would not offer this model"])
    props = schema.get("model_properties") or {}
    lines += [f"  {key.replace('_', ' ') + ':':<16} {value}" for key, value in props.items()]
    lines.append(f"  {'features:':<16} {', '.join(schema.get('features') or []) or '(none)'}")
    rules = schema.get("parameter_rules") or []
    lines.append(f"  parameter rules: {len(rules) or '(none)'}")
    lines += [_rule(rule) for rule in rules]
    return "\n".join(lines)


class Reply:
    """Accumulates LLM result chunks: text, tool calls (merged by id), the last usage and finish reason."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.tool_calls: list[dict[str, Any]] = []
        self.usage: dict[str, Any] | None = None
        self.finish_reason: str | None = None
        self.chunks = 0

    def add(self, chunk: dict[str, Any]) -> str:
        """Record one chunk and return the text it adds (what a live printer should print)."""
        self.chunks += 1
        delta = chunk.get("delta") or {}
        message = delta.get("message") or {}
        content = message.get("content")
        if isinstance(content, list):
            content = "".join(p.get("data", "") for p in content if p.get("type") == "text")
        for call in message.get("tool_calls") or []:
            self._merge(call)
        self.usage = delta.get("usage") or self.usage
        self.finish_reason = delta.get("finish_reason") or self.finish_reason
        self.text.append(content or "")
        return content or ""

    def _merge(self, call: dict[str, Any]) -> None:
        function = call.get("function") or {}
        for known in self.tool_calls:
            if call.get("id") and known["id"] == call.get("id"):
                known["function"]["arguments"] += function.get("arguments", "")
                return
        self.tool_calls.append(
            {
                "id": call.get("id", ""),
                "type": call.get("type", "function"),
                "function": {"name": function.get("name", ""), "arguments": function.get("arguments", "")},
            }
        )

    def summary(self) -> dict[str, Any]:
        return {
            "content": "".join(self.text),
            "tool_calls": self.tool_calls,
            "finish_reason": self.finish_reason,
            "usage": self.usage,
            "chunks": self.chunks,
        }

    def footer(self, seconds: float) -> str:
        lines = [""] if "".join(self.text) else []
        lines += [
            f"→ tool call {c['function']['name']}({c['function']['arguments']})  id={c['id']}"
            for c in self.tool_calls
        ]
        usage = self.usage or {}
        tokens = f"{usage.get('prompt_tokens', '?')} + {usage.get('completion_tokens', '?')} tokens"
        chunks = f"{self.chunks} chunk{'s' * (self.chunks != 1)}"
        lines.append(f"[{self.finish_reason or 'no finish'} · {tokens} · {chunks} · {seconds:.2f} s]")
        return "\n".join(lines)


def embeddings(texts: list[str], result: dict[str, Any]) -> str:
    vectors = result.get("embeddings") or []
    lines = []
    for text, vector in zip(texts, vectors, strict=False):
        head = ", ".join(f"{x:+.4f}" for x in vector[:4])
        norm = math.sqrt(sum(x * x for x in vector))
        lines.append(f"{len(vector)} dims  norm {norm:.3f}  [{head}, …]  {text[:60]!r}")
    usage = result.get("usage") or {}
    lines.append(
        f"[{len(vectors)} vectors · {usage.get('total_tokens', '?')} tokens · model {result.get('model')}]"
    )
    return "\n".join(lines)


def ranking(result: dict[str, Any]) -> str:
    docs = result.get("docs") or []
    lines = [
        f"{rank}. {d.get('score', 0):.4f}  #{d.get('index')}  {str(d.get('text', ''))[:70]}"
        for rank, d in enumerate(docs, 1)
    ]
    return "\n".join(lines) or "(no document passed the threshold)"
