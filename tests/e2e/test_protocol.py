"""The stdio protocol itself, through the real plugin process: readiness, bad input, errors, shutdown."""

from __future__ import annotations

import json
import time

import pytest

from tests.e2e.conftest import API_KEY
from tests.e2e.daemon_checks import ok
from tests.plugin_process import GuardedPluginProcess
from tools.console import payloads

pytestmark = pytest.mark.slow


def _wait_for(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_startup_looks_like_the_daemon_expects(plugin):
    # The manifest line comes first, then the SDK's log line, then heartbeats (runtime ref §2.6).
    assert plugin.manifest is not None and plugin.manifest["name"] == "xinference"
    assert any(log.get("message") == "Installed model: xinference" for log in plugin.logs)
    # HEARTBEAT_INTERVAL=1 for this process: heartbeats keep coming, so the daemon never reaps it.
    count = len(plugin.heartbeat_times)
    assert _wait_for(lambda: len(plugin.heartbeat_times) >= count + 2, timeout=5)


def test_malformed_line_gets_a_top_level_error_and_the_plugin_keeps_working(plugin, creds):
    before = len(plugin.top_level_events)
    plugin.send_raw_line(b'{"session_id": "x", "event": "request", "data": {')
    assert _wait_for(lambda: len(plugin.top_level_events) > before)
    event = plugin.top_level_events[before]
    assert event["event"] == "error" and event["session_id"] is None and event["data"]["error"]
    ok(plugin, payloads.schema("llm", "test-llm", creds("llm", "test-llm")))


def test_line_without_session_id_and_unknown_event(plugin):
    before = len(plugin.top_level_events)
    plugin.send_raw_line(json.dumps({"event": "request", "data": {}}).encode())
    plugin.send_raw_line(json.dumps({"session_id": "s-bogus", "event": "bogus", "data": {}}).encode())
    assert _wait_for(lambda: len(plugin.top_level_events) >= before + 2)
    errors = [e["data"]["error"] for e in plugin.top_level_events[before:]]
    assert any("session_id" in e for e in errors) and any("bogus" in e for e in errors)


def test_unknown_action_gets_only_end(plugin, creds):
    data = {**payloads.schema("llm", "test-llm", creds("llm", "test-llm")), "action": "no_such_action"}
    result = plugin.call(data, timeout=30)
    assert result.ended and result.chunks == [] and result.error is None


def test_payload_missing_a_required_key_is_a_validation_error_then_end(plugin, creds):
    data = payloads.invoke_llm("test-llm", creds("llm", "test-llm"), [{"role": "user", "content": "hi"}])
    del data["stop"]  # the daemon always sends it (null); the SDK requires the key
    result = plugin.call(data, timeout=30)
    assert result.ended and result.chunks == []
    assert result.error is not None and result.error["error_type"] == "ValidationError"


@pytest.mark.parametrize(
    ("data_for", "what"),
    [
        (
            lambda c: payloads.embed("no-such-model", c("text-embedding", "no-such-model"), ["a"]),
            "unknown uid",
        ),
        (
            lambda c: payloads.rerank(
                "test-rerank", c("rerank", "test-rerank", api_key="xf-wrong"), "q", ["d"]
            ),
            "key",
        ),
        (
            lambda c: payloads.invoke_llm(
                "no-such-model", c("llm", "no-such-model"), [{"role": "user", "content": "hi"}], stream=True
            ),
            "unknown uid, stream",
        ),
    ],
)
def test_errors_arrive_as_one_error_then_end(plugin, creds, data_for, what):
    result = plugin.call(data_for(creds), timeout=60)
    assert result.ended, what
    assert result.error is not None, what
    assert result.error["error_type"].startswith(("Invoke", "CredentialsValidateFailed")), result.error
    assert result.error["message"], what
    # The key must not leak into what Dify shows or logs (message, description, traceback).
    assert API_KEY not in json.dumps(result.error)


def test_validation_failure_is_a_typed_error(plugin, creds):
    result = plugin.call(payloads.validate("llm", "no-such-model", creds("llm", "no-such-model")), timeout=60)
    assert result.ended and result.chunks == []
    assert result.error is not None and result.error["error_type"] == "CredentialsValidateFailedError"
    assert "no-such-model" in result.error["message"]


def test_no_protocol_violations_so_far(plugin):
    assert plugin.violations == []
    assert API_KEY not in json.dumps(plugin.logs) and API_KEY not in plugin.stderr_text()


def test_over_long_line_is_fatal_for_its_session(creds, replay):
    # A tiny limit stands in for the daemon's 5 MiB: an embedding reply is far longer than 2 KiB.
    process = GuardedPluginProcess(max_line_bytes=2048)
    process.start(timeout=60)
    try:
        result = process.call(
            payloads.embed("test-embed", creds("text-embedding", "test-embed"), ["a", "b"]), 60
        )
        assert result.violation and "exceeds" in result.violation
        assert any("exceeds" in v for v in process.violations)
    finally:
        process.stop()


def test_sigterm_stops_the_plugin_promptly():
    process = GuardedPluginProcess()
    process.start(timeout=60)
    began = time.monotonic()
    rc = process.stop(grace=10)
    assert rc == -15 and time.monotonic() - began < 5


def test_refuses_to_run_as_pid_1(monkeypatch):
    monkeypatch.setattr("tools.console.runtime.os.getpid", lambda: 1)
    with pytest.raises(RuntimeError, match="PID 1"):
        GuardedPluginProcess().start()
