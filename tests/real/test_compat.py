"""What differs between Xinference releases, checked on the live server, and that Dify sees the same.

The server facts (straight HTTP) are the README's "Tested Xinference releases" table, so a release that
changes one fails here; the plugin checks next to them prove the difference does not reach Dify.
"""

from __future__ import annotations

import base64
import json

import pytest
import requests

from tests.real.capabilities import RELEASE, has
from tests.real.counting_proxy import CountingProxy
from tests.real.support import OPEN_URL, UIDS, WEATHER_TOOL, credentials, error_of, llm_tool_calls, ok
from tools.console import payloads

pytestmark = pytest.mark.real

WEATHER = [{"role": "user", "content": "What is the weather like in Paris today?"}]
TOOL = {"type": "function", "function": WEATHER_TOOL}


def _http(method: str, path: str, **kw) -> requests.Response:
    session = requests.Session()
    session.trust_env = False  # 127.0.0.1 only, never a proxy
    return session.request(method, OPEN_URL + path, timeout=120, **kw)


def test_server_stream_with_tools_is_refused_only_where_expected():
    body = {"model": UIDS["llm"], "messages": WEATHER, "tools": [TOOL], "stream": True, "max_tokens": 64}
    r = _http("POST", "/v1/chat/completions", json=body)
    if has("server_streams_with_tools"):
        assert r.status_code == 200 and "event-stream" in r.headers["content-type"]
    else:
        assert r.status_code == 400, r.text[:300]
        assert "Streaming support for tool calls" in r.json()["detail"]


def _weather_turn(plugin, url):
    data = payloads.invoke_llm(
        "my-llm",
        credentials(UIDS["llm"], url=url),
        WEATHER,
        tools=[WEATHER_TOOL],
        parameters={"temperature": 0, "max_tokens": 64},
        stream=True,
    )
    chunks = ok(plugin, data)
    calls = llm_tool_calls(chunks)
    assert [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in calls] == [
        ("get_weather", {"city": "Paris"})
    ]
    assert chunks[-1]["delta"]["finish_reason"] == "tool_calls"


def test_agent_turns_with_tools_stream_a_tool_call_and_pay_the_refusal_once(plugin):
    # through a counting proxy (a server URL of its own, so the plugin has no memory of it yet)
    with CountingProxy(OPEN_URL) as proxy:
        _weather_turn(plugin, proxy.url)
        first = [r.status for r in proxy.requests() if r.path == "/v1/chat/completions"]
        proxy.reset()
        _weather_turn(plugin, proxy.url)
        second = [r.status for r in proxy.requests() if r.path == "/v1/chat/completions"]
    if has("server_streams_with_tools"):
        assert first == second == [200]
    else:  # 1.x: the streamed request is refused once; then one blocking call per turn
        assert first == [400, 200]
        assert second == [200]


def test_unknown_model_status_on_inference():
    r = _http("POST", "/v1/embeddings", json={"model": "no-such-model", "input": "hi"})
    assert r.status_code == (404 if has("unknown_model_404") else 400), r.text[:300]


def test_unknown_model_is_the_same_error_in_dify(plugin):
    creds = credentials("no-such-model-uid")
    data = payloads.invoke_llm("m", creds, [{"role": "user", "content": "Hi"}], stream=True)
    err = error_of(plugin, data)
    assert err["error_type"] == "InvokeBadRequestError", err
    assert "no-such-model-uid" in err["message"]


def test_embedding_replica_id_and_base64():
    body = {"model": UIDS["embed"], "input": ["hello"], "encoding_format": "base64"}
    data = _http("POST", "/v1/embeddings", json=body).json()
    suffix = "-rep0" if has("rep_replica_ids") else "-0"
    assert data["model_replica"] == UIDS["embed"] + suffix
    vector = data["data"][0]["embedding"]
    if has("base64_embeddings"):
        assert isinstance(vector, str) and len(base64.b64decode(vector)) == 384 * 4
    else:
        assert isinstance(vector, list) and len(vector) == 384  # asked for base64, floats came


@pytest.mark.parametrize(("role", "ability"), [("embed", "embed"), ("rerank", "rerank")])
def test_embedding_and_rerank_descriptions(plugin, role, ability):
    description = _http("GET", f"/v1/models/{UIDS[role]}").json()
    if has("embedding_abilities"):
        assert ability in description["model_ability"]
    else:
        assert "model_ability" not in description
    model_type = "text-embedding" if role == "embed" else "rerank"
    chunks = ok(plugin, payloads.validate(model_type, "m", credentials(UIDS[role])))
    assert chunks[-1]["result"] is True


def test_llm_description_engine():
    description = _http("GET", f"/v1/models/{UIDS['llm']}").json()
    assert ("model_engine" in description) == has("model_engine_in_description"), sorted(description)


def test_stream_frames_logprobs_key():
    body = {"model": UIDS["llm"], "messages": WEATHER[:1], "stream": True, "max_tokens": 4}
    r = _http("POST", "/v1/chat/completions", json=body)
    frames = [line for line in r.text.splitlines() if line.startswith("data: {")]
    assert frames
    # 3.x/4.x: the text frames carry the key (the role frame and the extra closing frame do not)
    assert any('"logprobs"' in f for f in frames) == has("chunk_logprobs"), (RELEASE, frames[1])


def test_a_last_message_from_the_assistant(plugin):
    # Dify sends one when a prompt template ends with an assistant turn; 1.x refuses it with a 400
    messages = [
        {"role": "user", "content": "Hello, who are you?"},
        {"role": "assistant", "content": "Hello!", "tool_calls": []},
    ]
    data = payloads.invoke_llm("my-llm", credentials(UIDS["llm"]), messages, stream=False)
    if has("any_last_role"):
        assert ok(plugin, data)
    else:
        err = error_of(plugin, data)
        assert err["error_type"] == "InvokeBadRequestError", err
        assert "Please specify the prompt" in err["message"] and "HTTP 400" in err["message"]
