"""How many product files one streamed chat with tools runs code in, from the SDK's `invoke` to the HTTP
call and back (steady state: description cached, session pooled). The issue's target is 8; the house is
at the bound below, which may only go down (each file named, so a new one on the path is seen)."""

import sys
import threading
from pathlib import Path

import responses

from tests.llm.support import WEATHER_TOOL, add_description, add_stream, invoke, tool_calls

REPO = Path(__file__).resolve().parents[2]
BOUND = 18
ON_THE_PATH = {
    "models/_xinference/base.py",  # the mixin: client, call-time description, cached schema
    "models/_xinference/credentials.py",
    "models/_xinference/model_info.py",
    "models/_xinference/process_state.py",  # the TTL map behind the caches
    "models/_xinference/schemas.py",  # the SDK asks for the schema (cached) around the call
    "models/_xinference/client.py",
    "models/_xinference/retry.py",
    "models/_xinference/sessions.py",  # pooled sessions, and the connection that knows it was reused
    "models/_xinference/stream.py",  # the stream that always closes, and its SSE parser
    "models/llm/llm.py",
    "models/llm/schema.py",
    "models/llm/messages.py",
    "models/llm/request.py",
    "models/llm/streams.py",
    "models/llm/answers.py",
    "models/llm/reasoning.py",  # the answer's think tags
    "models/llm/reasoning_request.py",  # history stripped / replayed, reasoning effort
    "models/llm/tool_calls.py",  # deltas, markup, tool_choice
    # not structured_output.py: read only when the request carries response_format / json_schema
}


def _files_run(call) -> tuple[set[str], object]:
    seen: set[str] = set()
    models = str(REPO / "models")

    def profile(frame, event, _arg):
        if event == "call" and frame.f_code.co_filename.startswith(models):
            seen.add(str(Path(frame.f_code.co_filename).relative_to(REPO)))

    sys.setprofile(profile)
    threading.setprofile(profile)
    try:
        result = call()
    finally:
        sys.setprofile(None)
        threading.setprofile(None)
    return seen, result


def test_one_streamed_chat_with_tools_runs_in_these_files():
    with responses.RequestsMock() as mock:
        add_description(mock, "test-llm-tools")
        for _ in range(2):
            add_stream(mock, "tools_04_chat_toolcall_stream_raw_sse.txt")
        invoke("test-llm-tools", tools=[WEATHER_TOOL], stream=True)  # warm: description cached
        files, chunks = _files_run(lambda: invoke("test-llm-tools", tools=[WEATHER_TOOL], stream=True))
    assert tool_calls(chunks)  # the trip really went through tool-call markup and back
    assert files == ON_THE_PATH
    assert len(files) <= BOUND
