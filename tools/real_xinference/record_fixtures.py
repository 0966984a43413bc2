"""`make fixtures`: re-record the raw Xinference responses the unit tests replay, from a real server.

Writes (a useful subset of) tests/fixtures/xinference-4.1.0 with the same names and formats:
`*.json` = the body as received, `*_raw_sse.txt` = the stream bytes as received, other `*.txt` = a
`curl -i`-style dump (status line, headers, blank line, body). Secrets (JWT, API key, setup password) are
replaced with the placeholders the existing files use, and local paths with /srv/xinference.
Review the diff (`git diff tests/fixtures`) and run `make test` before committing re-recorded files.

Not re-recorded (kept as they are, and labelled in the fixtures README): launch/register/terminate
summaries (*_01/_03 launch dumps, *_16/_20), authon_* (a restarted auth server), reasoning B/C phases,
R01-R03 and models_list_after_embed.json (the 39 hand-made ones are listed in the fixtures README).

The recorder itself is recorder.py, the shared request bodies record_bodies.py; the err_* and auth_*
recordings are in record_errors.py, the audio ones in record_audio.py.

usage: .venv/bin/python tools/real_xinference/record_fixtures.py [--out DIR] [--only PREFIX ...]
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from audio import audio_launches, build_audio_models, ensure_audio
from env import REPO, ensure_venv, log
from local_models import build_models
from processes import sigterm_as_interrupt
from record_audio import record_audio
from record_bodies import AFTER_TOOL, DOCS, HELLO, STREAM, WEATHER, WEATHER_TOOL
from record_errors import record_auth, record_errors
from recorder import Recorder
from server import XinferenceServer
from specs import Launch, chat_spec, embedding_spec, generate_spec, reasoning_spec, rerank_spec

DEFAULT_OUT = REPO / "tests" / "fixtures" / "xinference-4.1.0"


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--only", nargs="*", default=[], help="record only names with these prefixes")
    ns = parser.parse_args()
    signal.signal(signal.SIGTERM, sigterm_as_interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    ns.out.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    py, _ = ensure_venv()
    ensure_audio(py)
    models = build_models(py) | build_audio_models(py)
    launches = fixture_models(models, models["random"])
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
