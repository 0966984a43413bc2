"""Record the llama.cpp fixtures (tests/fixtures/xinference-4.1.0-llamacpp/) from a real Xinference 4.1.0
whose `llama.cpp` engine serves the two tiny models converted to GGUF (llamacpp.py, gguf_convert.py).

Starts its own open server with just those two models and writes the raw answers: descriptions, chat
blocking / streamed, stop words, max_tokens, tool calls (the tools model's template has no `<tool_call>`
markup, so llama.cpp leaves the call in the text; the reasoning model's has, so llama.cpp parses it
itself), the tool-result turn, JSON Schema response_format (as Xinference's llguidance grammar allows it,
and compact), json_object, thinking on/off — for the reasoning model launched without and with
Xinference's own reasoning parser (series 2 and 3).

usage: .venv/bin/python tools/real_xinference/record_llamacpp.py [--out DIR] [--serve]
  --serve   only start the server and print the environment for `pytest tests/real/test_llamacpp.py`
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from env import REPO, ensure_venv, log
from llamacpp import build_ggufs, ensure_llamacpp, llamacpp_launches
from record_bodies import AFTER_TOOL, HELLO, WEATHER
from recorder import Recorder
from run import _sigterm
from server import XinferenceServer

DEFAULT_OUT = REPO / "tests" / "fixtures" / "xinference-4.1.0-llamacpp"
# the tool as tests/real sends it (with the parameter's description), as these files were recorded
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Get the current weather for a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string", "description": "City name"}},
                "required": ["city"],
            },
        },
    }
]
SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "temperature": {"type": "integer"}},
    "required": ["city", "temperature"],
    "additionalProperties": False,
}
RESPONSE_FORMAT = {"type": "json_schema", "json_schema": {"name": "weather", "schema": SCHEMA}}
CHAT = "/v1/chat/completions"


def _chat(uid: str, messages: list, stream: bool = False, **extra) -> dict:
    body = {"model": uid, "messages": messages, "temperature": 0, "max_tokens": 64, "stream": stream, **extra}
    if stream:
        body["stream_options"] = {"include_usage": True}
    return body


COMPACT_FORMAT = {
    "type": "json_schema",
    "json_schema": {"name": "weather", "schema": {**SCHEMA, "x-guidance": {"whitespace_flexible": False}}},
}


def record(rec: Recorder, llm: str, reasoning: str, reasoning_parser: str) -> None:
    r = rec.record
    r("llamacpp_01_get_model.json", "GET", f"/v1/models/{llm}")
    r("llamacpp_02_chat.json", "POST", CHAT, _chat(llm, HELLO))
    r("llamacpp_03_chat_raw_sse.txt", "POST", CHAT, _chat(llm, HELLO, True))
    r("llamacpp_04_max_tokens_raw_sse.txt", "POST", CHAT, _chat(llm, HELLO, True, max_tokens=4))
    r("llamacpp_05_max_tokens.json", "POST", CHAT, _chat(llm, HELLO, max_tokens=4))
    r("llamacpp_06_stop.json", "POST", CHAT, _chat(llm, HELLO, stop=["tiny"]))
    r("llamacpp_07_tools.json", "POST", CHAT, _chat(llm, WEATHER, tools=TOOLS))
    r("llamacpp_08_tools_raw_sse.txt", "POST", CHAT, _chat(llm, WEATHER, True, tools=TOOLS))
    r("llamacpp_09_json_schema.json", "POST", CHAT, _chat(llm, WEATHER, response_format=RESPONSE_FORMAT))
    r(
        "llamacpp_10_json_schema_raw_sse.txt",
        "POST",
        CHAT,
        _chat(llm, WEATHER, True, response_format=RESPONSE_FORMAT),
    )
    r("llamacpp_11_no_schema.json", "POST", CHAT, _chat(llm, WEATHER))
    r(
        "llamacpp_12_json_schema_compact.json",
        "POST",
        CHAT,
        _chat(llm, WEATHER, response_format=COMPACT_FORMAT),
    )
    r(
        "llamacpp_13_json_object.json",
        "POST",
        CHAT,
        _chat(llm, WEATHER, response_format={"type": "json_object"}),
    )
    _record_reasoning(rec, "2", reasoning)
    _record_reasoning(rec, "3", reasoning_parser)


def _record_reasoning(rec: Recorder, series: str, uid: str) -> None:
    """Series 2: llama.cpp splits the reasoning alone; series 3: Xinference's parser on top of it."""
    r = rec.record
    p = f"llamacpp_{series}"
    off = {"chat_template_kwargs": {"enable_thinking": False}}
    r(f"{p}0_reasoning_get_model.json", "GET", f"/v1/models/{uid}")
    r(f"{p}1_reasoning_chat.json", "POST", CHAT, _chat(uid, HELLO))
    r(f"{p}2_reasoning_chat_raw_sse.txt", "POST", CHAT, _chat(uid, HELLO, True))
    r(f"{p}3_reasoning_thinking_off.json", "POST", CHAT, _chat(uid, HELLO, **off))
    r(f"{p}4_reasoning_thinking_off_raw_sse.txt", "POST", CHAT, _chat(uid, HELLO, True, **off))
    r(f"{p}5_reasoning_tools.json", "POST", CHAT, _chat(uid, WEATHER, tools=TOOLS))
    r(f"{p}6_reasoning_tools_raw_sse.txt", "POST", CHAT, _chat(uid, WEATHER, True, tools=TOOLS))
    r(f"{p}7_reasoning_after_tool.json", "POST", CHAT, _chat(uid, AFTER_TOOL, tools=TOOLS))
    r(f"{p}8_reasoning_after_tool_raw_sse.txt", "POST", CHAT, _chat(uid, AFTER_TOOL, True, tools=TOOLS))
    r(f"{p}9_reasoning_max_tokens_raw_sse.txt", "POST", CHAT, _chat(uid, HELLO, True, max_tokens=4))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--serve", action="store_true", help="start the server, print its env, wait")
    ns = parser.parse_args()
    signal.signal(signal.SIGTERM, _sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    t0 = time.monotonic()
    py, _ = ensure_venv()
    ensure_llamacpp(py)
    launches = llamacpp_launches(build_ggufs(py), with_parser=True)
    server = XinferenceServer(py, "fixtures-llamacpp")
    ns.out.mkdir(parents=True, exist_ok=True)
    rec = Recorder(server, ns.out, [], py.parent.parent)
    try:
        server.start()
        server.register_and_launch(list(launches.values()))
        if ns.serve:
            uids = json.dumps({role: m.uid for role, m in launches.items()})
            print(f"export XINFERENCE_REAL_URL='{server.url}' XINFERENCE_REAL_UIDS='{uids}'", flush=True)
            while server.proc and server.proc.poll() is None:
                time.sleep(1)
            return 0
        record(rec, *(launches[role].uid for role in ("gguf_llm", "gguf_reasoning", "gguf_reasoning_parser")))
    except BaseException:
        print(server.log_tail(), flush=True)
        raise
    finally:
        server.stop()
    log(f"wrote {len(rec.written)} files in {time.monotonic() - t0:.0f} s; review with `git diff {ns.out}`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
