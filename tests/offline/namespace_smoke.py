"""Run inside a network namespace where only loopback is up: the installed plugin against a fake Xinference.

usage: python -m tests.offline.namespace_smoke PLUGIN_ROOT PLUGIN_PYTHON HOME
Prints one JSON line: what the plugin answered, and proof that nothing but loopback is reachable.
"""

from __future__ import annotations

import errno
import json
import socket
import sys
from pathlib import Path

from tools.console import payloads
from tools.console.credentials import build
from tools.console.runtime import PluginProcess
from tools.replay.server import ReplayServer

OUTSIDE = ("10.255.255.1", 80)  # any non-loopback address; unreachable in the namespace


def _outside_error() -> str:
    try:
        socket.create_connection(OUTSIDE, timeout=3).close()
    except OSError as exc:
        return errno.errorcode.get(exc.errno or 0, str(exc))
    return "connected"


def _chunks(process: PluginProcess, data: dict) -> list[dict]:
    return process.call(data, timeout=60).raise_for_error().chunks


def _text(chunks: list[dict]) -> str:
    contents = [chunk["delta"]["message"]["content"] for chunk in chunks]
    return "".join(content for content in contents if isinstance(content, str))


def _serve(process: PluginProcess, root: Path, url: str) -> dict:
    def creds(model_type: str, uid: str) -> dict:
        return build(root, model_type, {"server_url": url, "model_uid": uid, "max_retries": "0"})

    hello = [{"role": "user", "content": [payloads.text_part("Hello")]}]
    chat_uid = "test-tiny-qwen2-tools"
    schema = _chunks(process, payloads.schema("llm", "test-llm", creds("llm", "test-llm")))
    chat = _chunks(process, payloads.invoke_llm(chat_uid, creds("llm", chat_uid), hello))
    vectors = _chunks(process, payloads.embed("test-embed", creds("text-embedding", "test-embed"), ["a"]))
    return {"schema": schema[0]["model_schema"], "chat": _text(chat), "embedding": vectors[0]["embeddings"]}


def _run(root: Path, python: str, home: str) -> dict:
    env = {"PYTHONPATH": "", "PYTHONNOUSERSITE": "1", "HOME": home, "PYTHONDONTWRITEBYTECODE": "1"}
    with ReplayServer() as replay:
        process = PluginProcess(plugin_root=root, python=python, env=env)
        try:
            ready = process.start(timeout=60)
            answers = _serve(process, root, replay.url)
            violations = [str(v) for v in process.violations]
        finally:
            process.stop()
        paths = sorted({entry[1] for entry in replay.requests})
    return {"heartbeat_s": ready, **answers, "violations": violations, "replay_paths": paths}


def main() -> None:
    root, python, home = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    result = {"outside": _outside_error(), **_run(root, python, home)}
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
