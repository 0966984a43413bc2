"""The console's sub-commands: each builds the daemon's request, sends it and prints the answer."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.console import images, payloads, render

if TYPE_CHECKING:
    from tools.console.app import Console

HELP = {
    "models": "list the models running on the server (uid, type, abilities, context)",
    "check": "validate credentials and show what Dify will show (mode, features, context, parameter rules)",
    "chat": "stream a reply to a prompt through the plugin (optionally with tools from a JSON file)",
    "embed": "embed texts (and images: --image FILE) through the plugin",
    "rerank": "rank documents against a query (or an image: --image-query FILE) through the plugin",
    "tts": "speak a text through the plugin and write the audio to a file",
    "voices": "list the voices the plugin offers for a TTS model",
    "stt": "transcribe an audio file through the plugin",
}


def _kv(items: list[str]) -> dict[str, Any]:
    """NAME=VALUE pairs; values are JSON when they parse (numbers, booleans), strings otherwise."""
    out: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"expected NAME=VALUE, got {item!r}")
        try:
            out[name] = json.loads(value)
        except ValueError:
            out[name] = value
    return out


def load_tools(path: str) -> list[dict]:
    """Tools from a JSON list, in Dify's shape ({name, description, parameters}) or OpenAI's."""
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    tools = [t.get("function", t) for t in (raw if isinstance(raw, list) else [raw])]
    return [
        {
            "name": t["name"],
            "description": t.get("description", ""),
            "parameters": t.get("parameters") or {"type": "object", "properties": {}},
        }
        for t in tools
    ]


def run_models(c: Console) -> int:
    data = c.server_get("/v1/models")
    items = (
        data.get("data", [])
        if isinstance(data, dict) and "data" in data
        else [{"id": uid, **d} for uid, d in (data or {}).items()]
    )
    rows = [render.model_row(item) for item in items]
    c.out(json.dumps(rows, ensure_ascii=False, indent=2) if c.json else render.models_table(rows))
    return 0


def run_check(c: Console) -> int:
    model_type = c.model_type()
    credentials = c.credentials(model_type)
    c.call(payloads.validate(model_type, c.args.uid, credentials))
    chunks = c.call(payloads.schema(model_type, c.args.uid, credentials))
    schema = chunks[0].get("model_schema") if chunks else None
    if c.json:
        c.out(
            json.dumps(
                {"model": c.args.uid, "model_type": model_type, "valid": True, "schema": schema},
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        c.out(render.check_report(c.args.uid, model_type, c.args.server_url, schema))
    return 0


def run_chat(c: Console) -> int:
    a = c.args
    messages = ([{"role": "system", "content": a.system}] if a.system else []) + [
        {"role": "user", "content": a.prompt}
    ]
    tools = load_tools(a.tools) if a.tools else None
    data = payloads.invoke_llm(
        a.uid,
        c.credentials("llm"),
        messages,
        tools=tools,
        stream=not a.no_stream,
        parameters=_kv(a.param),
        stop=a.stop or None,
    )
    reply = render.Reply()
    c.started()  # so the time shown is the answer's, not the plugin's start-up
    began = time.monotonic()
    c.call(data, on_chunk=reply.add if c.json else lambda chunk: c.out(reply.add(chunk), end=""))
    if c.json:
        c.out(json.dumps(reply.summary(), ensure_ascii=False, indent=2))
    else:
        c.out(reply.footer(time.monotonic() - began))
    return 0


def run_embed(c: Console) -> int:
    a = c.args
    if a.image:
        return images.run_embed(c)
    if not a.texts:
        raise ValueError("give at least one text, or --image FILE")
    chunks = c.call(payloads.embed(a.uid, c.credentials("text-embedding"), a.texts, input_type=a.input_type))
    result = chunks[0]
    c.out(json.dumps(result, ensure_ascii=False) if c.json else render.embeddings(a.texts, result))
    return 0


def run_rerank(c: Console) -> int:
    a = c.args
    if a.image_query or a.image_doc:
        return images.run_rerank(c)
    if not a.query or not a.docs:
        raise ValueError("give a query and at least one document")
    data = payloads.rerank(a.uid, c.credentials("rerank"), a.query, a.docs, a.score_threshold, a.top_n)
    result = c.call(data)[0]
    c.out(json.dumps(result, ensure_ascii=False, indent=2) if c.json else render.ranking(result))
    return 0


def _first_voice(c: Console, credentials: dict) -> str:
    voices = c.call(payloads.tts_voices(c.args.uid, credentials))[0].get("voices") or []
    return voices[0]["value"] if voices else "default"


def run_tts(c: Console) -> int:
    a = c.args
    credentials = c.credentials("tts")
    voice = a.voice or _first_voice(c, credentials)
    chunks = c.call(payloads.tts(a.uid, credentials, a.text, voice))
    audio = b"".join(bytes.fromhex(chunk["result"]) for chunk in chunks)
    Path(a.out).write_bytes(audio)
    mime = next((ch["mime_type"] for ch in chunks if ch.get("mime_type")), None)
    info = {"file": a.out, "bytes": len(audio), "chunks": len(chunks), "voice": voice, "mime_type": mime}
    pieces = f"{len(chunks)} chunk{'s' * (len(chunks) != 1)}"
    text = f"wrote {len(audio)} bytes ({mime or 'audio'}, voice {voice}, {pieces}) to {a.out}"
    c.out(json.dumps(info) if c.json else text)
    return 0


def run_voices(c: Console) -> int:
    voices = (
        c.call(payloads.tts_voices(c.args.uid, c.credentials("tts"), c.args.language))[0].get("voices") or []
    )
    lines = [f"{v.get('value', '')}\t{v.get('name', '')}" for v in voices] or ["(the model lists no voices)"]
    c.out(json.dumps(voices, ensure_ascii=False, indent=2) if c.json else "\n".join(lines))
    return 0


def run_stt(c: Console) -> int:
    audio = Path(c.args.file).read_bytes()
    text = c.call(payloads.stt(c.args.uid, c.credentials("speech2text"), audio))[0].get("result", "")
    c.out(json.dumps({"text": text}, ensure_ascii=False) if c.json else text)
    return 0


def _chat_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("prompt")
    p.add_argument("--system", help="a system message before the prompt")
    p.add_argument("--tools", metavar="FILE", help="JSON list of tools ({name, description, parameters})")
    p.add_argument(
        "--param", action="append", default=[], metavar="NAME=VALUE", help="model parameter (repeatable)"
    )
    p.add_argument("--stop", action="append", default=[], help="stop sequence (repeatable)")
    p.add_argument("--no-stream", action="store_true", help="blocking call (Dify's stream=false)")


def _rerank_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("query", nargs="?", help="the query text (with --image-query: the first document)")
    p.add_argument("docs", nargs="*")
    p.add_argument("--image-query", metavar="FILE", help="rank against this image (a multimodal reranker)")
    p.add_argument("--image-doc", action="append", default=[], metavar="FILE", help="an image document")
    p.add_argument("--top-n", type=int, default=None)
    p.add_argument("--score-threshold", type=float, default=None)


ARGUMENTS = {
    "models": lambda p: None,
    "check": lambda p: None,
    "chat": _chat_args,
    "embed": lambda p: (
        p.add_argument("texts", nargs="*"),
        p.add_argument("--input-type", choices=("document", "query"), default="document"),
        p.add_argument("--image", action="append", default=[], metavar="FILE", help="an image (repeatable)"),
    ),
    "rerank": _rerank_args,
    "tts": lambda p: (
        p.add_argument("text"),
        p.add_argument("--voice"),
        p.add_argument("--out", required=True),
    ),
    "voices": lambda p: p.add_argument("--language"),
    "stt": lambda p: p.add_argument("file"),
}
RUN = {
    "models": run_models,
    "check": run_check,
    "chat": run_chat,
    "embed": run_embed,
    "rerank": run_rerank,
    "tts": run_tts,
    "voices": run_voices,
    "stt": run_stt,
}
