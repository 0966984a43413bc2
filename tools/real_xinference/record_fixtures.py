"""`make fixtures`: re-record the raw Xinference responses the unit tests replay, from a real server.

Writes (a useful subset of) tests/fixtures/xinference-4.1.0 with the same names and formats:
`*.json` = the body as received, `*_raw_sse.txt` = the stream bytes as received, other `*.txt` = a
`curl -i`-style dump (status line, headers, blank line, body). Secrets (JWT, API key, setup password) are
replaced with the placeholders the existing files use, and local paths with /srv/xinference.
Review the diff (`git diff tests/fixtures`) and run `make test` before committing re-recorded files.

Not re-recorded (kept as they are, and labelled in the fixtures README): launch/register/terminate
summaries (*_01/_03 launch dumps, *_16/_20), authon_* (a restarted auth server), reasoning B/C phases
and R01-R03.

usage: .venv/bin/python tools/real_xinference/record_fixtures.py [--out DIR] [--only PREFIX ...]
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from audio import audio_launches, build_audio_models, ensure_audio
from env import CACHE, REPO, cache_lock, ensure_venv, log, offline_env
from record_audio import record_audio
from run import _sigterm, build_models
from server import XinferenceServer
from specs import Launch, chat_spec, embedding_spec, generate_spec, reasoning_spec, rerank_spec

BUILD = Path(__file__).resolve().parent / "build_models.py"
DEFAULT_OUT = REPO / "tests" / "fixtures" / "xinference-4.1.0"
JWT_PLACEHOLDER = "eyJ...REDACTED-TEST-JWT"
KEY_PLACEHOLDER = "xf-TESTONLY" + "x" * 45

HELLO = [{"role": "user", "content": "Hello, who are you?"}]
WEATHER = [{"role": "user", "content": "What is the weather like in Paris today?"}]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
AFTER_TOOL = [
    *WEATHER,
    {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            }
        ],
    },
    {"role": "tool", "content": '{"temperature": 21, "condition": "sunny"}', "tool_call_id": "call_1"},
]
STREAM = {"stream": True, "stream_options": {"include_usage": True}}
DOCS = ["Paris is the capital of France.", "Berlin is the capital of Germany.", "The cat sits on the mat."]


def fixture_models(models: dict[str, Path], random_llm: Path) -> list[Launch]:
    """The uids the recordings name: test-llm is a random tiny Qwen2 (text runs to max_tokens)."""
    return [
        Launch("test-embed", "embedding", embedding_spec(models["minilm"])),
        Launch("test-rerank", "rerank", rerank_spec(models["rerank"])),
        Launch("test-llm", "LLM", chat_spec("test-tiny-qwen2", random_llm, "tiny random-weight Qwen2")),
        Launch("test-llm-base", "LLM", generate_spec("test-tiny-qwen2-base", random_llm)),
        Launch(
            "test-llm-tools", "LLM", chat_spec("test-tiny-qwen2-tools", models["tools"], "tiny trained Qwen2")
        ),
        Launch(
            "test-reasoning",
            "LLM",
            reasoning_spec(models["reasoning"]),
            {"reasoning_content": True, "enable_thinking": True},
        ),
    ]


class Recorder:
    def __init__(self, server: XinferenceServer, out: Path, only: list[str], venv: Path) -> None:
        self.server = server
        self.out = out
        self.only = only
        self.written: list[str] = []
        # longest first, so a path inside another is replaced before its parent
        self.paths = sorted(
            [(str(venv), "/srv/xinference/venv"), (str(CACHE), "/srv/xinference"), (str(REPO), "/srv/repo")],
            key=lambda p: -len(p[0]),
        )

    def wanted(self, name: str) -> bool:
        return not self.only or any(name.startswith(p) for p in self.only)

    def send(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        raw: bytes | None = None,
        *,
        content_type: str | None = "application/json",  # multipart for audio uploads
    ) -> tuple[int, str, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=300)
        headers = {}
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
        if data is not None and content_type:
            headers["Content-Type"] = content_type
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.reason, resp.getheaders(), resp.read()
        finally:
            conn.close()

    def redact(self, data: bytes, secrets: dict[str, str]) -> bytes:
        text = data.decode("utf-8", errors="surrogateescape")
        for secret, placeholder in secrets.items():
            if secret:
                text = text.replace(secret, placeholder)
        for field in ("access_token", "refresh_token"):
            text = re.sub(rf'"{field}":\s*"[^"]+"', f'"{field}":"{JWT_PLACEHOLDER}"', text)
        text = re.sub(r'"key":\s*"xf-[^"]+"', f'"key":"{KEY_PLACEHOLDER}"', text)
        for local, public in self.paths:
            text = text.replace(local, public)
        return text.encode("utf-8", errors="surrogateescape")

    def record(self, name: str, method: str, path: str, body: Any = None, **kw: Any) -> bytes:
        """Send the request; write the file only when it is wanted (--only). Returns the raw body."""
        status, reason, headers, data = self.send(method, path, body, **kw)
        if not self.wanted(name):
            return data
        clean = self.redact(data, {t: JWT_PLACEHOLDER for t in (self.server.admin_token,) if t})
        if name.endswith(".json") or name.endswith("_raw_sse.txt"):
            blob = clean
        else:
            lines = [f"HTTP/1.1 {status} {reason}"]
            for k, v in headers:
                lines.append(f"{k}: {len(clean) if k.lower() == 'content-length' else v}")
            blob = ("\r\n".join(lines) + "\r\n\r\n").encode() + clean
        (self.out / name).write_bytes(blob)
        self.written.append(name)
        log(f"  {name}: HTTP {status}, {len(blob)} bytes")
        return data


def record_open(rec: Recorder, launches: list[Launch]) -> None:
    s = rec.server
    rec.record("noauth_models_empty.txt", "GET", "/v1/models")
    s.register_and_launch(launches)
    chat, comp, emb, rr = "/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/rerank"
    greedy = {"temperature": 0, "max_tokens": 16}
    r = rec.record
    r("models_list_all.json", "GET", "/v1/models")
    r("embed_01_registration.json", "GET", "/v1/model_registrations/embedding/test-minilm-embed")
    r("embed_02_engines.json", "GET", "/v1/engines/test-minilm-embed?model_type=embedding")
    texts = ["Hello world", "Xinference serves models.", "The cat sits on the mat.", "Paris is in France."]
    r("embed_04_embeddings_batch.json", "POST", emb, {"model": "test-embed", "input": texts})
    r("embed_05_embeddings_single.json", "POST", emb, {"model": "test-embed", "input": "Hello world"})
    b64 = {"model": "test-embed", "input": "Hello world", "encoding_format": "base64"}
    r("embed_06_embeddings_base64.json", "POST", emb, b64)
    r("embed_07_get_model.json", "GET", "/v1/models/test-embed")
    q = "What is the capital of Germany?"
    rbody = {"model": "test-rerank", "query": q, "documents": DOCS}
    r("rerank_02_engines.json", "GET", "/v1/engines/test-minilm-rerank?model_type=rerank")
    r("rerank_04_rerank_topn_docs.json", "POST", rr, {**rbody, "top_n": 2, "return_documents": True})
    r("rerank_05_rerank_nodocs.json", "POST", rr, rbody)
    len_body = {**rbody, "documents": ["Paris", "Berlin"], "return_documents": True, "return_len": True}
    r("rerank_06_rerank_return_len.json", "POST", rr, len_body)
    r("rerank_07_get_model.json", "GET", "/v1/models/test-rerank")
    hello = [{"role": "user", "content": "Hello"}]
    r("llm_01_registration.json", "GET", "/v1/model_registrations/LLM/test-tiny-qwen2")
    r("llm_02_engines.json", "GET", "/v1/engines/test-tiny-qwen2?model_type=LLM")
    r("llm_04_get_model.json", "GET", "/v1/models/test-llm")
    r("llm_05_chat_nonstream.json", "POST", chat, {"model": "test-llm", "messages": hello, **greedy})
    r(
        "llm_06_chat_stream_raw_sse.txt",
        "POST",
        chat,
        {"model": "test-llm", "messages": hello, **greedy, **STREAM},
    )
    r("llm_07_completions_nonstream.json", "POST", comp, {"model": "test-llm", "prompt": "Hello", **greedy})
    cbody = {"model": "test-llm", "prompt": "Hello", **greedy, **STREAM}
    r("llm_08_completions_stream_raw_sse.txt", "POST", comp, cbody)
    tbody = {"model": "test-llm", "messages": WEATHER, "tools": [WEATHER_TOOL], **greedy}
    r("llm_09_chat_tools_nonstream.json", "POST", chat, tbody)
    r("llm_10_chat_tools_stream_raw_sse.txt", "POST", chat, {**tbody, **STREAM})
    base_comp = {"model": "test-llm-base", "prompt": "Hello", **greedy}
    r("llm_12_completions_nonstream_generate_model.json", "POST", comp, base_comp)
    r("llm_13_completions_stream_raw_sse_generate_model.txt", "POST", comp, {**base_comp, **STREAM})
    r(
        "llm_14_chat_on_generate_model.json",
        "POST",
        chat,
        {"model": "test-llm-base", "messages": hello, **greedy},
    )
    r("llm_15_get_model_generate_only.json", "GET", "/v1/models/test-llm-base")
    tools_plain = {"model": "test-llm-tools", "messages": HELLO, "temperature": 0, "max_tokens": 64}
    r("tools_01_chat_plain.json", "POST", chat, tools_plain)
    r("tools_02_chat_plain_stream_raw_sse.txt", "POST", chat, {**tools_plain, **STREAM})
    tools_call = {**tools_plain, "messages": WEATHER, "tools": [WEATHER_TOOL]}
    r("tools_03_chat_toolcall.json", "POST", chat, tools_call)
    r("tools_04_chat_toolcall_stream_raw_sse.txt", "POST", chat, {**tools_call, **STREAM})
    r("tools_05_get_model.json", "GET", "/v1/models/test-llm-tools")
    record_reasoning(rec)
    record_errors(rec)
    record_audio(rec)


def record_reasoning(rec: Recorder) -> None:
    chat = "/v1/chat/completions"
    base = {"model": "test-reasoning", "temperature": 0, "max_tokens": 128}
    off = {"chat_template_kwargs": {"enable_thinking": False}}
    on = {"chat_template_kwargs": {"enable_thinking": True}}
    tools = {"messages": WEATHER, "tools": [WEATHER_TOOL]}
    cases = [
        ("chat_default", {"messages": HELLO}),
        ("chat_ctk_thinking_false", {"messages": HELLO, **off}),
        ("chat_toplevel_thinking_false", {"messages": HELLO, "enable_thinking": False}),
        ("chat_ctk_thinking_true", {"messages": HELLO, **on}),
        ("tools_default", tools),
        ("tools_thinking_false", {**tools, **off}),
        ("tools_after_tool_result", {"messages": AFTER_TOOL, "tools": [WEATHER_TOOL]}),
    ]
    rec.record("reasoning_A02_get_model.json", "GET", "/v1/models/test-reasoning")
    for i, (case, extra) in enumerate(cases):
        rec.record(f"reasoning_A{3 + i:02d}_{case}_nonstream.json", "POST", chat, {**base, **extra})
    for i, (case, extra) in enumerate(cases):
        rec.record(
            f"reasoning_A{10 + i:02d}_{case}_stream_raw_sse.txt", "POST", chat, {**base, **extra, **STREAM}
        )
    parser_off = {"chat_template_kwargs": {"enable_thinking": True, "reasoning_content": False}}
    rec.record(
        "reasoning_A17_chat_ctk_reasoning_content_false_nonstream.json",
        "POST",
        chat,
        {**base, "messages": HELLO, **parser_off},
    )
    short = {**base, "messages": HELLO, "max_tokens": 4, "enable_thinking": True}
    rec.record("reasoning_A18_chat_max_tokens_4_nonstream.json", "POST", chat, short)
    rec.record("reasoning_A19_chat_max_tokens_4_stream_raw_sse.txt", "POST", chat, {**short, **STREAM})


def record_errors(rec: Recorder) -> None:
    r = rec.record
    chat, comp, emb, rr = "/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/rerank"
    hello = [{"role": "user", "content": "Hello"}]
    nope = "no-such-model"
    r("err_01_get_unknown_model.txt", "GET", f"/v1/models/{nope}")
    r("err_02_chat_unknown_model.txt", "POST", chat, {"model": nope, "messages": hello})
    r("err_03_embed_unknown_model.txt", "POST", emb, {"model": nope, "input": "hi"})
    r("err_04_rerank_unknown_model.txt", "POST", rr, {"model": nope, "query": "q", "documents": ["a"]})
    r("err_05_completions_unknown_model.txt", "POST", comp, {"model": nope, "prompt": "hi"})
    r("err_06_chat_invalid_json.txt", "POST", chat, raw=b'{"model": "test-llm", "messages": ')
    r("err_07_chat_missing_messages.txt", "POST", chat, {"model": "test-llm"})
    r("err_08_chat_messages_wrong_type.txt", "POST", chat, {"model": "test-llm", "messages": "Hello"})
    r("err_09_embed_invalid_json.txt", "POST", emb, raw=b"not json")
    r("err_10_embed_missing_input.txt", "POST", emb, {"model": "test-embed"})
    r("err_11_rerank_missing_documents.txt", "POST", rr, {"model": "test-rerank", "query": "q"})
    r("err_12_rerank_invalid_json.txt", "POST", rr, raw=b"{'model': 'test-rerank'}")
    r("err_13_embed_with_llm_model.txt", "POST", emb, {"model": "test-llm", "input": "hi"})
    r(
        "err_14_rerank_with_embed_model.txt",
        "POST",
        rr,
        {"model": "test-embed", "query": "q", "documents": ["a"]},
    )
    r("err_15_chat_with_embed_model.txt", "POST", chat, {"model": "test-embed", "messages": hello})
    r("err_16_chat_stream_unknown_model.txt", "POST", chat, {"model": nope, "messages": hello, **STREAM})
    big = {"model": "test-llm", "messages": hello, "max_tokens": 100000}
    r("err_17_chat_max_tokens_too_large.txt", "POST", chat, big)
    r("err_18_embed_empty_list.txt", "POST", emb, {"model": "test-embed", "input": []})
    # without model_engine 4.1.0 refuses the launch before it looks the name up (the first recording,
    # made by hand, had an engine and got "Model not found, name: …")
    launch = {"model_uid": "no-such", "model_name": "no-such-registered-model", "model_type": "LLM"}
    r("err_19_launch_unknown_model_name.txt", "POST", "/v1/models", launch)
    untyped = json.dumps({"model": "test-llm", "messages": hello, "max_tokens": 2}).encode()
    r("err_20_chat_no_content_type.txt", "POST", chat, raw=untyped, content_type=None)


def record_auth(rec: Recorder, launches: list[Launch]) -> None:
    """Default rate limits on purpose: the last recording is the IP ban (429)."""
    s = rec.server
    r = rec.record
    bad = "sk-" + "0" * 32
    r("auth_01_models_no_key.txt", "GET", "/v1/models")
    r("auth_02_models_invalid_key.txt", "GET", "/v1/models", token=bad)
    r("auth_03_setup_status.txt", "GET", "/v1/admin/setup/status")
    password = secrets.token_urlsafe(18)
    setup = {"setup_token": s.setup_token(), "username": "admin", "password": password}
    r("auth_04_setup_admin.txt", "POST", "/v1/admin/setup", setup)
    login = r("auth_05_login.txt", "POST", "/token", {"username": "admin", "password": password})
    s.admin_token = json.loads(login)["access_token"]
    key = r("auth_06_create_key.txt", "POST", "/v1/admin/keys", {"name": "dify-test"}, token=s.admin_token)
    s.api_key = json.loads(key)["key"]
    r("auth_07_models_valid_key.txt", "GET", "/v1/models", token=s.api_key)
    r("auth_08_models_invalid_key_after_setup.txt", "GET", "/v1/models", token=bad)
    r("auth_09_embeddings_no_key.txt", "POST", "/v1/embeddings", {"model": "test-embed", "input": "hi"})
    hello = {"model": "test-llm", "messages": [{"role": "user", "content": "Hello"}]}
    r("auth_10_chat_bad_key.txt", "POST", "/v1/chat/completions", hello, token="xf-" + "0" * 40)
    launch = {**launches[0].body()}
    r("auth_12_launch_with_api_key_forbidden.txt", "POST", "/v1/models", launch, token=s.api_key)
    if rec.wanted("auth_11"):
        for _ in range(15):  # 10 failures per IP in 300 s → banned
            status, *_ = rec.send("GET", "/v1/models", token=bad)
            if status == 429:
                break
        r("auth_11_valid_key_after_ip_ban.txt", "GET", "/v1/models", token=s.api_key)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--only", nargs="*", default=[], help="record only names with these prefixes")
    ns = parser.parse_args()
    signal.signal(signal.SIGTERM, _sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    ns.out.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    py, _ = ensure_venv()
    ensure_audio(py)
    models = build_models(py) | build_audio_models(py)
    random_llm = py.parent.parent / "models" / "tiny-qwen2-random"
    with cache_lock():
        if not (random_llm / "config.json").exists():
            subprocess.run(
                [str(py), str(BUILD), "random-llm", str(models["tools"]), str(random_llm)],
                check=True,
                env=offline_env(),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
    launches = fixture_models(models, random_llm)
    audio = list(audio_launches(models).values())
    written: list[str] = []
    phases = [("fixtures-open", False), ("fixtures-auth", True)]
    if ns.only and all(p.startswith("auth") for p in ns.only):
        phases = phases[1:]
    for name, auth in phases:
        server = XinferenceServer(py, name, auth=auth, raise_limits=False)  # auth_11 needs the real ban
        rec = Recorder(server, ns.out, ns.only, py.parent.parent)
        try:
            server.start()
            log(f"recording from the {'auth' if auth else 'open'} server into {ns.out}")
            if auth:
                record_auth(rec, launches)
            else:
                record_open(rec, launches + audio)
        except BaseException:
            print(server.log_tail(), flush=True)
            raise
        finally:
            server.stop()
            written += rec.written
    log(f"wrote {len(written)} files in {time.monotonic() - t0:.0f} s; review with `git diff {ns.out}`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
