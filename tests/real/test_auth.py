"""A server with auth ON (the Xinference 4.x default): setup → admin JWT → API key, done by run.py.

The plugin must work with the key, report a missing or wrong key as InvokeAuthorizationError (invoke) or
CredentialsValidateFailedError (validate), and never retry a 401: Xinference bans the whole client IP for an
hour after 10 failed keys in 5 minutes. Requests go through a counting proxy to prove "exactly one".
"""

from __future__ import annotations

import os

import pytest

from tests.real.counting_proxy import CountingProxy
from tests.real.support import AUTH_URL, HELLO, UIDS, credentials, error_of, llm_text, ok
from tools.console import payloads

pytestmark = pytest.mark.real

# Keys that look real and are none; one per test, because the plugin remembers a failed description
# (server, uid, key) for 10 s and would not even send the request again.
WRONG_KEYS = {name: f"xf-wrong-key-{name}-0123456789" for name in ("v-embed", "v-llm", "i-embed", "i-llm")}


@pytest.fixture(scope="module")
def api_key():
    key = os.environ.get("XINFERENCE_REAL_API_KEY", "")
    assert key.startswith("xf-"), "run.py must pass the API key it created"
    return key


@pytest.fixture(scope="module")
def proxy():
    with CountingProxy(AUTH_URL) as p:
        yield p


def _creds(role, api_key=None, url=None, **extra):
    creds = credentials(UIDS[role], url=url or AUTH_URL, **extra)
    if api_key is not None:
        creds["api_key"] = api_key
    return creds


def test_validate_and_invoke_with_the_key(plugin, api_key):
    assert (
        ok(plugin, payloads.validate("text-embedding", "e", _creds("embed", api_key)))[-1]["result"] is True
    )
    chunk = ok(plugin, payloads.embed("e", _creds("embed", api_key), ["hello", "world"]))[-1]
    assert len(chunk["embeddings"]) == 2 and len(chunk["embeddings"][0]) == 384
    assert ok(plugin, payloads.validate("llm", "l", _creds("llm", api_key)))[-1]["result"] is True


@pytest.mark.parametrize("stream", [False, True], ids=["blocking", "stream"])
def test_chat_with_the_key(plugin, api_key, stream):
    data = payloads.invoke_llm(
        "l",
        _creds("llm", api_key),
        [{"role": "user", "content": "Hello"}],
        parameters={"temperature": 0, "max_tokens": 32},
        stream=stream,
    )
    assert llm_text(ok(plugin, data)) == HELLO


def test_schema_reads_the_description_with_the_key(plugin, api_key):
    schema = ok(plugin, payloads.schema("llm", "l", _creds("llm", api_key)))[-1]["model_schema"]
    assert schema["model_properties"]["context_size"] == 2048  # from the server, not the fallback


def test_missing_key(plugin, proxy):
    proxy.reset()
    invoke = error_of(plugin, payloads.embed("e", _creds("embed", url=proxy.url), ["hello"]))
    assert invoke["error_type"] == "InvokeAuthorizationError"
    validate = error_of(plugin, payloads.validate("llm", "l", _creds("llm", url=proxy.url)))
    assert validate["error_type"] == "CredentialsValidateFailedError"
    assert "401" in validate["message"] or "API Key" in validate["message"]
    seen = proxy.requests()
    assert [r.status for r in seen] == [401, 401], seen  # one request each
    assert not any(r.has_auth for r in seen)


@pytest.mark.parametrize(
    ("model_type", "role"), [("text-embedding", "embed"), ("llm", "llm")], ids=["embedding", "llm"]
)
def test_wrong_key_validate_sends_exactly_one_request(plugin, proxy, model_type, role):
    proxy.reset()
    key = WRONG_KEYS[f"v-{role}"]
    creds = _creds(role, key, url=proxy.url, max_retries="5")  # retries allowed, yet none for a 401
    err = error_of(plugin, payloads.validate(model_type, "m", creds))
    assert err["error_type"] == "CredentialsValidateFailedError"
    assert key not in str(err)
    seen = proxy.requests()
    assert len(seen) == 1 and seen[0].status == 401 and seen[0].has_auth, seen


def test_wrong_key_invoke_sends_exactly_one_request(plugin, proxy):
    proxy.reset()
    creds = _creds("embed", WRONG_KEYS["i-embed"], url=proxy.url, max_retries="5")
    err = error_of(plugin, payloads.embed("e", creds, ["hello"]))
    assert err["error_type"] == "InvokeAuthorizationError"
    assert WRONG_KEYS["i-embed"] not in str(err)
    seen = proxy.requests()
    assert len(seen) == 1 and seen[0].status == 401, seen

    proxy.reset()
    chat = payloads.invoke_llm(
        "l",
        _creds("llm", WRONG_KEYS["i-llm"], url=proxy.url, max_retries="5"),
        [{"role": "user", "content": "Hello"}],
        stream=True,
    )
    err = error_of(plugin, chat)
    assert err["error_type"] == "InvokeAuthorizationError"
    assert WRONG_KEYS["i-llm"] not in str(err)
    seen = proxy.requests()
    # exactly one: the description's 401 ends the invocation before any chat request is sent
    assert len(seen) == 1 and seen[0].status == 401 and seen[0].has_auth, seen
    assert (seen[0].method, seen[0].path) == ("GET", f"/v1/models/{UIDS['llm']}"), seen


def test_key_still_works_after_the_failures(plugin, api_key):
    """Few failures (far below the ban threshold); the valid key was never locked out."""
    chunk = ok(plugin, payloads.embed("e", _creds("embed", api_key), ["still fine"]))[-1]
    assert len(chunk["embeddings"]) == 1


def test_key_never_in_plugin_output(plugin, api_key):
    """Neither the valid key nor a wrong one shows up in what the plugin wrote (stderr, log events)."""
    written = plugin.stderr_text() + repr(plugin.logs) + repr(plugin.top_level_events)
    for key in (api_key, *WRONG_KEYS.values()):
        assert key not in written
