"""README: "One HTTP request per call" — counted on the server side, through the real plugin process.

The replay server records every request it receives (GETs too). After one warm-up call (which reads
the model description once and caches it), each further call of the same model must reach the server
as exactly one request, to the endpoint of that call.
"""

from __future__ import annotations

import pytest

from tests.e2e.daemon_checks import ok
from tools.console import payloads

pytestmark = pytest.mark.slow

CALLS = 3  # steady-state calls counted after the warm-up
HI = [{"role": "user", "content": "Hello"}]

# name -> (model type, uid, payload builder(credentials), the one request each call may send)
ACTIONS = {
    "chat-blocking": (
        "llm",
        "test-tiny-qwen2-tools",
        lambda c: payloads.invoke_llm("test-tiny-qwen2-tools", c, HI, stream=False),
        ("POST", "/v1/chat/completions"),
    ),
    "chat-streamed": (
        "llm",
        "test-tiny-qwen2-tools",
        lambda c: payloads.invoke_llm("test-tiny-qwen2-tools", c, HI, stream=True),
        ("POST", "/v1/chat/completions"),
    ),
    "embedding": (
        "text-embedding",
        "test-embed",
        lambda c: payloads.embed("test-embed", c, ["alpha", "beta", "gamma"]),
        ("POST", "/v1/embeddings"),
    ),
    "rerank": (
        "rerank",
        "test-rerank",
        lambda c: payloads.rerank("test-rerank", c, "capital", ["Paris", "Berlin", "Rome"]),
        ("POST", "/v1/rerank"),
    ),
}


@pytest.mark.parametrize("action", list(ACTIONS))
def test_each_call_is_one_request_in_steady_state(plugin, creds, replay, action):
    model_type, uid, build, expected = ACTIONS[action]
    data = build(creds(model_type, uid))
    ok(plugin, data)  # warm-up: the first use may also read the model description
    replay.reset()
    for _ in range(CALLS):
        ok(plugin, data)
    seen = [(method, path) for method, path, _headers, _body in replay.requests]
    assert seen == [expected] * CALLS
