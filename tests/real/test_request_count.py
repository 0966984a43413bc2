"""README: "One HTTP request per call", against the real Xinference 4.1.0, counted by a local proxy.

Every request the plugin process sends (GETs too) passes the counting proxy. After one warm-up call
(the model description is read once and cached), each call is exactly one request to its endpoint.
"""

from __future__ import annotations

import pytest

from tests.real.counting_proxy import CountingProxy
from tests.real.support import OPEN_URL, UIDS, credentials, ok
from tools.console import payloads

pytestmark = pytest.mark.real

CALLS = 3
HI = [{"role": "user", "content": "Hello"}]
GREEDY = {"temperature": 0, "max_tokens": 8}

# name -> (role, payload builder(credentials), the one request each call may send)
ACTIONS = {
    "chat-blocking": (
        "llm",
        lambda c: payloads.invoke_llm("l", c, HI, parameters=GREEDY, stream=False),
        ("POST", "/v1/chat/completions"),
    ),
    "chat-streamed": (
        "llm",
        lambda c: payloads.invoke_llm("l", c, HI, parameters=GREEDY, stream=True),
        ("POST", "/v1/chat/completions"),
    ),
    "embedding": (
        "embed",
        lambda c: payloads.embed("e", c, ["alpha", "beta", "gamma"]),
        ("POST", "/v1/embeddings"),
    ),
    "rerank": (
        "rerank",
        lambda c: payloads.rerank("r", c, "capital", ["Paris", "Berlin"]),
        ("POST", "/v1/rerank"),
    ),
}


@pytest.fixture(scope="module")
def proxy():
    with CountingProxy(OPEN_URL) as p:
        yield p


@pytest.mark.parametrize("action", list(ACTIONS))
def test_each_call_is_one_request_in_steady_state(plugin, proxy, action):
    role, build, expected = ACTIONS[action]
    data = build(credentials(UIDS[role], url=proxy.url))
    ok(plugin, data)  # warm-up: the first use may also read the model description
    proxy.reset()
    for _ in range(CALLS):
        ok(plugin, data)
    seen = proxy.requests()
    assert [(r.method, r.path) for r in seen] == [expected] * CALLS, seen
    assert all(r.status == 200 for r in seen), seen
