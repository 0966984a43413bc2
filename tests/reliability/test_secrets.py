"""The API key (a unique marker) never appears in anything the plugin says.

Its own mix of failing and succeeding requests — including servers that echo the key back in an error
page or an in-band stream error — and everything collected in EVIDENCE so far: every session's chunks
and errors (tracebacks included), log events, stray stdout and all stderr of every plugin process, and
every in-process log record at DEBUG. Whatever runs after this module is checked by the session
finalizer in tests/reliability/conftest.py, so no file-name ordering is needed.

One exception is the protocol itself: validate_model_credentials answers with the credentials Dify
sent (the SDK echoes them back to Dify for it to store); that one field is set aside.
"""

from __future__ import annotations

import json
import logging

import pytest

from models._xinference.client import XinferenceClient
from models._xinference.credentials import parse_credentials
from tests.helpers import API_KEY
from tests.reliability.plugin_harness import EVIDENCE, creds, evidence_leaks, request

CASES = [
    ("ok", "post", "llm_stream"),
    ("ok", "post", "llm_block"),
    ("ok", "post", "embed"),
    ("ok", "post", "rerank"),
    ("401", "post", "embed"),
    ("403", "post", "llm_stream"),
    ("html502", "post", "rerank"),
    ("text500", "post", "llm_block"),
    ("redirect", "post", "embed"),
    ("reset", "post", "llm_stream"),
    ("sse_error", "post", "llm_stream"),
    ("nonjson", "post", "embed"),
    ("silent", "post", "embed"),
    ("echo", "post", "embed"),
    ("echo", "post", "llm_stream"),
    ("echo", "all", "validate"),
    ("sse_echo", "post", "llm_stream"),
    ("401", "all", "validate"),
    ("ok", "all", "validate"),
]


def _without_echoed_credentials(result) -> None:
    for chunk in result.chunks:
        if isinstance(chunk, dict) and "credentials" in chunk and "result" in chunk:
            assert chunk["credentials"]["api_key"] == API_KEY  # the protocol echo, set aside below
            chunk["credentials"] = {**chunk["credentials"], "api_key": "<echoed to Dify>"}


@pytest.mark.parametrize(("case", "scope", "action"), CASES)
def test_key_is_absent_from_results_and_errors(plugin, hostile, case, scope, action):
    result = plugin.call(request(action, hostile.url(case, scope)), timeout=30)
    _without_echoed_credentials(result)
    assert API_KEY not in json.dumps({"chunks": result.chunks, "error": result.error})


def test_key_is_absent_from_in_process_errors_and_logs(hostile, caplog):
    caplog.set_level(logging.DEBUG)
    for case in ("echo", "sse_echo", "401", "redirect", "html502"):
        client = XinferenceClient(parse_credentials(creds(hostile.url(case))))
        body = {"model": "llm-1", "messages": [{"role": "user", "content": "hi"}], "stream": True}
        # any typed error will do: its text is what matters
        with pytest.raises(Exception) as caught:
            list(client.stream_events("/v1/chat/completions", body, what="chat"))
        assert API_KEY not in str(caught.value) and API_KEY not in str(caught.getrepr(style="long"))
        assert API_KEY not in repr(client.credentials)
    assert API_KEY not in caplog.text


def test_nothing_collected_so_far_contains_the_key(plugin):
    plugin.stop()  # flush this module's process into the evidence too
    leaks = evidence_leaks()
    print(
        f"\nsecrets: {len(EVIDENCE.texts)} texts from {EVIDENCE.counts['processes']} processes, "
        f"{EVIDENCE.counts['calls']} sessions ({EVIDENCE.counts['errors']} errors); leaks: {len(leaks)}"
    )
    assert EVIDENCE.counts["calls"] >= len(CASES)
    assert leaks == []
