"""`make fixtures`, the error and authentication recordings: unknown models, malformed or mistyped requests
and wrong model types on the open server (err_*); on the auth server the admin setup, login, API keys,
refused keys and the IP ban (auth_*).
"""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING

from record_bodies import STREAM

if TYPE_CHECKING:
    from recorder import Recorder
    from specs import Launch


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
