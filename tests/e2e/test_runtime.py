"""The harness itself: does PluginProcess catch what the daemon would reject? Uses a scripted fake plugin."""

from __future__ import annotations

import textwrap

import pytest

from tests.plugin_process import GuardedPluginProcess
from tools.console.session import PluginError, ProtocolViolation

pytestmark = pytest.mark.slow

FAKE_MAIN = textwrap.dedent(
    """
    import json, os, sys
    def send(obj):
        sys.stdout.write(json.dumps(obj) + "\\n\\n"); sys.stdout.flush()
    def session(sid, kind, data):
        send({"event": "session", "session_id": sid, "data": {"type": kind, "data": data}})
    sys.stdout.write('{"name": "fake"}\\n\\n')
    send({"event": "heartbeat", "session_id": None, "data": {}})
    assert os.environ["INSTALL_METHOD"] == "local"
    for line in sys.stdin:
        req = json.loads(line)
        sid, action = req["session_id"], req["data"]["action"]
        if action == "normal":
            session(sid, "stream", {"n": 1}); session(sid, "stream", {"n": 2}); session(sid, "end", {})
        elif action == "junk":
            print("stray print() output"); session(sid, "end", {})
        elif action == "cross":
            session("someone-else", "stream", {}); session(sid, "end", {})
        elif action == "after_end":
            session(sid, "end", {}); session(sid, "stream", {"late": True})
        elif action == "error":
            session(sid, "error", {"error_type": "InvokeError", "message": "boom", "args": {}})
            session(sid, "end", {})
        elif action == "die":
            sys.stderr.write("last words before dying\\n"); sys.stderr.flush(); os._exit(3)
    """
)


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    root = tmp_path_factory.mktemp("fake-plugin")
    (root / "main.py").write_text(FAKE_MAIN)
    process = GuardedPluginProcess(plugin_root=root)
    process.start(timeout=20)
    yield process
    process.stop()


def test_normal_session_collects_chunks_in_order(fake):
    result = fake.call({"action": "normal"}, timeout=10).raise_for_error()
    assert result.chunks == [{"n": 1}, {"n": 2}] and result.ended and fake.manifest == {"name": "fake"}


def test_error_session_raises_the_typed_error(fake):
    result = fake.call({"action": "error"}, timeout=10)
    with pytest.raises(PluginError) as caught:
        result.raise_for_error()
    assert caught.value.error_type == "InvokeError" and caught.value.message == "boom"


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("junk", "non-JSON"),
        ("cross", "unknown or finished session"),
        ("after_end", "unknown or finished session"),
    ],
)
def test_protocol_violations_are_recorded(fake, action, expected):
    before = len(fake.violations)
    assert fake.call({"action": action}, timeout=10).ended
    fake.call({"action": "normal"}, timeout=10)  # a later session flushes anything still in the pipe
    assert any(expected in v for v in fake.violations[before:]), fake.violations


def test_a_plugin_that_dies_fails_its_sessions_instead_of_hanging(fake):
    result = fake.call({"action": "die"}, timeout=10)
    assert not result.ended and "stdout closed (exit code 3)" in result.violation
    assert "last words before dying" in result.violation  # how it died, readable from a CI report
    with pytest.raises(ProtocolViolation):
        result.raise_for_error()
    assert fake.stop() == 3
