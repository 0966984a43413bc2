"""The console as a developer runs it (`python -m tools.console …`) against the replay server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import wave

import pytest

from tests.e2e.conftest import API_KEY
from tests.plugin_process import run as run_guarded
from tools.console.runtime import REPO_ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def console(replay):
    env = {**os.environ, "XINFERENCE_SERVER_URL": replay.url, "XINFERENCE_API_KEY": API_KEY}

    def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess:
        done = run_guarded(
            [sys.executable, "-m", "tools.console", *args],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert (done.returncode == 0) == ok, done.stdout + done.stderr
        assert API_KEY not in done.stdout + done.stderr
        return done

    return run


def test_models_lists_uid_type_abilities_context(console):
    lines = console("models").stdout.splitlines()
    assert lines[0].split()[:4] == ["UID", "TYPE", "ABILITIES", "CONTEXT"]
    row = next(line for line in lines if line.startswith("test-reasoning "))
    assert "llm" in row and "reasoning, hybrid" in row and "2048" in row
    denied = console("models", "--api-key", "xf-wrong", ok=False)
    assert (
        denied.returncode == 3
        and "HTTP 401" in denied.stderr
        and "Could not validate credentials" in denied.stderr
    )
    rows = json.loads(console("models", "--json").stdout)
    assert {"uid": "test-embed", "type": "text-embedding", "context": 256}.items() <= next(
        r for r in rows if r["uid"] == "test-embed"
    ).items()


def test_check_prints_what_dify_will_show(console):
    out = console("check", "--uid", "test-llm").stdout
    assert out.startswith("test-llm (llm) on http://127.0.0.1:")
    assert "credentials are valid" in out and "mode:            chat" in out
    assert "context size:    2048" in out and "tool-call" in out and "temperature" in out
    report = json.loads(console("check", "--uid", "test-embed", "--json").stdout)
    assert (
        report["model_type"] == "text-embedding"
        and report["schema"]["model_properties"]["context_size"] == 256
    )


def test_check_failure_prints_the_typed_error_and_exits_non_zero(console):
    done = console("check", "--uid", "no-such-model", ok=False)  # type detection fails; the plugin explains
    assert done.returncode == 1
    assert (
        done.stderr.startswith("error: CredentialsValidateFailedError: ") and "no-such-model" in done.stderr
    )
    done = console("check", "--uid", "no-such-model", "--type", "llm", "--json", ok=False)
    assert json.loads(done.stdout)["error"]["error_type"] == "CredentialsValidateFailedError"


def test_chat_streams_the_reply_and_tool_calls(console, tmp_path):
    out = console("chat", "--uid", "test-tiny-qwen2-tools", "Hello").stdout
    assert out.startswith("Hello! I am a tiny test model.\n[stop · 21 + 16 tokens · ")
    tools = tmp_path / "tools.json"
    tools.write_text(
        json.dumps([{"type": "function", "function": {"name": "get_weather", "parameters": {}}}])
    )
    reply = json.loads(
        console(
            "chat",
            "--uid",
            "test-tiny-qwen2-tools",
            "--tools",
            str(tools),
            "--json",
            "--no-stream",
            "Weather in Paris?",
        ).stdout
    )
    (call,) = reply["tool_calls"]
    assert call["function"]["name"] == "get_weather" and json.loads(call["function"]["arguments"]) == {
        "city": "Paris"
    }


def test_embed_rerank_and_audio(console, tmp_path):
    assert "384 dims" in console("embed", "--uid", "test-embed", "hello", "world").stdout
    ranked = console(
        "rerank", "--uid", "test-rerank", "capital of France", "Bananas", "Paris is the capital of France"
    )
    assert ranked.stdout.splitlines()[0].endswith("#1  Paris is the capital of France")
    out = tmp_path / "hello.wav"
    spoken = console("tts", "--uid", "test-tts", "--voice", "alloy", "--out", str(out), "Hello there.").stdout
    assert spoken.startswith("wrote ") and out.stat().st_size > 100
    clip = tmp_path / "clip.wav"
    with wave.open(str(clip), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000), w.writeframes(b"\x00\x00" * 1600)
    assert (
        console("stt", "--uid", "test-stt", str(clip)).stdout.strip()
        == "The quick brown fox jumps over the lazy dog."
    )


def test_embed_and_rerank_with_images(console):
    images = REPO_ROOT / "tests" / "assets" / "images"
    png, jpeg = str(images / "red-square.png"), str(images / "blue-square.jpg")
    checked = json.loads(console("check", "--uid", "test-clip-embed", "--json").stdout)
    assert checked["schema"]["features"] == ["vision"]
    lines = console(
        "embed", "--uid", "test-clip-embed", "--image", png, "--image", jpeg, "a red square"
    ).stdout
    rows = lines.splitlines()
    assert [row.split("  ")[0] for row in rows[:3]] == ["16 dims"] * 3
    assert rows[0].endswith("'a red square'") and rows[1].endswith("'[image red-square.png]'")
    ranked = console(
        "rerank", "--uid", "test-vl-rerank", "--image-query", png, "a red square", "--image-doc", png
    )
    first = ranked.stdout.splitlines()[0]
    assert first.startswith("1. 1.0000  #1  [image red-square.png]")
    refused = console("embed", "--uid", "test-clip-embed", "--image", str(images / "README.md"), ok=False)
    assert (
        refused.returncode == 1
        and "Item 1 (an image) is not a PNG, JPEG, GIF, WebP or BMP image" in refused.stderr
    )
