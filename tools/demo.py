"""`make demo`: a first run with no Dify and no Xinference.

Starts the replay server (recorded Xinference 4.1.0 answers) on a free 127.0.0.1 port, then drives the
plugin through the console exactly as Dify would — validate, a streamed chat, a tool call, an embedding
batch, a rerank, a TTS and an STT call — printing what Dify would receive. The server stops at the end,
on the first failure and on Ctrl-C. Exit code 0 only when every step succeeded.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import wave
from pathlib import Path

from tools.console import cli
from tools.replay.server import ReplayServer

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Current weather for a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string", "description": "City name"}},
        "required": ["city"],
    },
}


def steps(work: Path) -> list[tuple[str, list[str]]]:
    """(what Dify does, console arguments) in the order a new workspace meets them."""
    tools_file = work / "tools.json"
    tools_file.write_text(json.dumps([WEATHER_TOOL]))
    speech, clip = work / "speech.mp3", work / "clip.wav"
    _write_tone(clip)
    return [
        ("Add the LLM: validate credentials, show its schema", ["check", "--uid", "test-llm"]),
        ("Chat, streamed", ["chat", "--uid", "test-tiny-qwen2-tools", "Hello"]),
        (
            "An agent turn: the model calls a tool",
            [
                "chat",
                "--uid",
                "test-tiny-qwen2-tools",
                "--tools",
                str(tools_file),
                "What's the weather in Paris?",
            ],
        ),
        (
            "Index a knowledge base: one embedding batch",
            ["embed", "--uid", "test-embed", "Xinference serves models.", "Dify builds apps.", "Tea is hot."],
        ),
        (
            "Retrieve: rerank two passages",
            ["rerank", "--uid", "test-rerank", "What serves models?", "Xinference serves models.", "Tea."],
        ),
        ("Text to speech", ["tts", "--uid", "test-tts", "--out", str(speech), "Hello from Dify."]),
        ("Speech to text", ["stt", "--uid", "test-stt", str(clip)]),
    ]


def _write_tone(path: Path) -> None:
    """Half a second of 16 kHz silence: enough for the upload path (the replay server does not listen)."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\0\0" * 8000)


def main() -> int:
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="xinference-demo-") as tmp, ReplayServer() as server:
        print(f"Replay server (recorded Xinference 4.1.0) on {server.url}\n", flush=True)
        all_steps = steps(Path(tmp))
        for number, (title, args) in enumerate(all_steps, 1):
            print(f"── {number}/{len(all_steps)} {title}\n$ console {' '.join(_quoted(args))}", flush=True)
            code = cli.main([*args, "--server-url", server.url])
            if code != 0:
                print(f"\nstep {number} failed (exit {code})", file=sys.stderr)
                return code
            print(flush=True)
    print(f"All {len(all_steps)} steps answered as Dify would see them, in {time.monotonic() - began:.1f} s.")
    print("Next: point the console at your own server (README, 'Try it without Dify'), or install in Dify.")
    return 0


def _quoted(args: list[str]) -> list[str]:
    return [f'"{a}"' if " " in a else a for a in args]


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # the `with` blocks above have stopped the server and the plugin
        print("\ninterrupted", file=sys.stderr)
        sys.exit(130)
