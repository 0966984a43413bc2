"""Record what an older Xinference release answers where it differs from 4.1.0 (`make fixtures-compat`).

Runs inside `run.py --release R --record DIR`, on the server that run.py has just started and loaded
with the test models (so no extra launches), before the tests. Writes tests/fixtures/xinference-R/ in
the formats of record_fixtures.py (`*.json` body, `*_raw_sse.txt` stream bytes, other `*.txt` a
`curl -i` dump), with local paths replaced by /srv/xinference. The unit tests replay these files.
"""

from __future__ import annotations

from pathlib import Path

from env import log
from record_bodies import STREAM, WEATHER, WEATHER_TOOL
from recorder import Recorder
from server import XinferenceServer

CHAT, EMB, RR = "/v1/chat/completions", "/v1/embeddings", "/v1/rerank"
HELLO = [{"role": "user", "content": "Hello, who are you?"}]
LLM = "test-tiny-qwen2-tools"  # the uids run.py launches (specs.test_models)


def record_release(server: XinferenceServer, out: Path, venv: Path) -> list[str]:
    out.mkdir(parents=True, exist_ok=True)
    rec = Recorder(server, out, [], venv)
    r = rec.record
    # descriptions: which keys exist (model_ability, model_engine, …) differs by release
    r("models_list.json", "GET", "/v1/models")
    for uid, name in (("test-embed", "embed"), ("test-rerank", "rerank"), (LLM, "llm")):
        r(f"{name}_get_model.json", "GET", f"/v1/models/{uid}")
    r("reasoning_get_model.json", "GET", "/v1/models/test-reasoning")
    # embeddings: base64 asked (ignored up to 3.2.1), replica id form
    b64 = {"model": "test-embed", "input": ["Hello world", "Paris"], "encoding_format": "base64"}
    r("embed_base64.json", "POST", EMB, b64)
    r("rerank.json", "POST", RR, {"model": "test-rerank", "query": "cat?", "documents": ["a cat", "rain"]})
    greedy = {"model": LLM, "messages": HELLO, "temperature": 0, "max_tokens": 64}
    r("chat_nonstream.json", "POST", CHAT, greedy)
    r("chat_stream_raw_sse.txt", "POST", CHAT, {**greedy, **STREAM})  # what the plugin sends
    r("chat_stream_max_tokens_4_raw_sse.txt", "POST", CHAT, {**greedy, "max_tokens": 4, **STREAM})
    tools = {**greedy, "messages": WEATHER, "tools": [WEATHER_TOOL]}
    r("chat_tools_nonstream.json", "POST", CHAT, tools)
    r("chat_tools_stream.txt", "POST", CHAT, {**tools, **STREAM})  # 1.x: the 400 refusal
    # errors: unknown model 400 (before 2.7) or 404; last message from the assistant
    nope = {"model": "no-such-model", "messages": HELLO}
    r("err_get_unknown_model.txt", "GET", "/v1/models/no-such-model")
    r("err_chat_unknown_model.txt", "POST", CHAT, nope)
    r("err_embed_unknown_model.txt", "POST", EMB, {"model": "no-such-model", "input": "hi"})
    prefill = [*HELLO, {"role": "assistant", "content": "Hello!"}]
    r("err_chat_last_message_assistant.txt", "POST", CHAT, {**greedy, "messages": prefill})
    r("cluster_version.txt", "GET", "/v1/cluster/version")
    (out / "README.md").write_text(_readme(server.release.version, rec.written))
    log(f"recorded {len(rec.written)} files into {out}")
    return rec.written


def _readme(version: str, names: list[str]) -> str:
    listing = "\n".join(f"- `{name}`" for name in sorted(names))
    return (
        f"# Xinference {version}: what differs from 4.1.0\n\n"
        f"Recorded from a real Xinference {version} on CPU (tests/assets models, 127.0.0.1) by\n"
        "`make fixtures-compat` (tools/real_xinference/record_compat.py); local paths are /srv/xinference.\n"
        "`*.json`: the body as received; `*_raw_sse.txt`: the stream bytes; other `*.txt`: `curl -i` dumps.\n"
        "Replayed by tests/_xinference/test_compat_releases.py and\n"
        "tests/llm/test_llm_tool_stream_fallback.py.\n\n"
        f"{listing}\n"
    )
