"""What happens around the answer, on a real Xinference 4.1.0 of its own (fault_server.py), through the
one plugin process of the run: the server restarted between two calls, the model's process killed
mid-stream (SIGKILL, as the OOM killer does), and a UID relaunched as a different model.

The tests run in file order and share the fault server; each leaves the chat model (UID fault-llm, the
tiny chat + tools model) serving for the next.

The mid-stream kill needs a stream still running when the kill lands. The tiny chat model writes its
15-token answer in a few ms, so that test launches a long writer beside it as LONG_UID: a random-weight
tiny Qwen2 on the same tokenizer (build_models.py random-llm, built once into the venv), whose greedy
answer runs to max_tokens. Unkilled, its 1,000 tokens come as 498 chunks in 7 s at load 4 and in about
a minute at load 11 on our 2-core machine; its processes are SIGKILLed at the first chunk the plugin
delivers (0.2-8 s in, the kill 0.01-0.03 s later), so nearly all of the answer is still to come: the kill
lands mid-stream by construction, whatever the machine's load. A run in which it did not (no chunk at
all, or the whole answer before the error) fails; there is no retry and no skip.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field

import pytest

from models._xinference.model_info import DESCRIPTIONS
from tests.real.fault_server import LONG_UID, MODELS, PYTHON, UID, FaultServer
from tests.real.support import HELLO, call, credentials, error_of, llm_text, ok
from tools.console import payloads
from tools.console.session import SessionResult

pytestmark = [
    pytest.mark.real,
    # each test (re)starts the server or relaunches the model: minutes on a busy 2-core machine
    pytest.mark.timeout(1200),
    pytest.mark.skipif(not (PYTHON and MODELS), reason="needs the 4.1.0 venv and models (make test-real)"),
]

USER = [{"role": "user", "content": "Hello, who are you?"}]
TIMEOUT = 30  # the model's Invoke timeout in these tests (s)
DESCRIPTION_TTL = DESCRIPTIONS.ttl - 5  # what the plugin process caches, with a margin for the call itself


@pytest.fixture(scope="module")
def fault():
    server = FaultServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


def _creds(fault: FaultServer, **extra):
    return credentials(UID, fault.url, invoke_timeout=str(TIMEOUT), **extra)


def _chat(fault: FaultServer, *, stream: bool, **extra) -> dict:
    params = {"temperature": 0, "max_tokens": 64}
    return payloads.invoke_llm("my-llm", _creds(fault, **extra), USER, parameters=params, stream=stream)


def _timed_error(plugin, data: dict) -> tuple[dict, float]:
    t0 = time.monotonic()
    err = error_of(plugin, data, timeout=TIMEOUT + 30)
    return err, time.monotonic() - t0


def test_server_restarted_between_two_calls(plugin, fault):
    for stream in (True, False):
        assert llm_text(ok(plugin, _chat(fault, stream=stream))) == HELLO
    fault.stop()
    for stream in (True, False):  # during the outage: fast, and named as what it is
        err, took = _timed_error(plugin, _chat(fault, stream=stream, max_retries="1"))
        assert err["error_type"] == "InvokeConnectionError", err
        assert "could not connect" in err["message"] and "Connection refused" in err["message"], err
        assert took < 5, f"a refused connection took {took:.1f} s to report"
        print(f"outage, stream={stream}: {err['error_type']} after {took:.2f} s")
    fault.start()  # the same port, the model launched again
    # the plugin's pooled connections point at the dead process: no stale-connection error reaches Dify
    for stream in (True, False):
        assert llm_text(ok(plugin, _chat(fault, stream=stream))) == HELLO


LONG_TOKENS = 1000  # the long writer's max_tokens: its whole answer takes seconds (see the docstring)
LONG_STREAM_LIMIT = 300  # (s) a whole unkilled answer took 7-12 s at load 4, 59 s at load 10 (2 cores)


@dataclass
class _Streamed:
    """One streamed chat of the long writer, timed from the request (s)."""

    result: SessionResult
    first_chunk: float | None = None
    killed: list[int] = field(default_factory=list)
    killed_at: float | None = None
    kill_failed: Exception | None = None
    took: float = 0.0

    @property
    def text(self) -> str:
        return llm_text(self.result.chunks)

    @property
    def finish(self) -> str | None:
        reasons = [c["delta"].get("finish_reason") for c in self.result.chunks]
        return next((r for r in reversed(reasons) if r), None)


def _stream_long_writer(plugin, fault: FaultServer, *, kill: bool = False) -> _Streamed:
    """The long writer's answer to USER, streamed; with `kill`, its processes are SIGKILLed at the
    first chunk the plugin delivers (on the reader thread, before it reads the next one)."""
    params = {"temperature": 0, "max_tokens": LONG_TOKENS}
    creds = credentials(LONG_UID, fault.url, invoke_timeout=str(TIMEOUT), max_retries="0")
    data = payloads.invoke_llm("my-long", creds, USER, parameters=params, stream=True)
    run = _Streamed(SessionResult(""))
    t0 = time.monotonic()

    def on_chunk(_chunk: dict) -> None:
        if run.first_chunk is None:
            run.first_chunk = time.monotonic() - t0
            if kill:
                try:
                    run.killed = fault.kill_model(LONG_UID)
                except Exception as exc:  # re-raised below, in the test thread, after the session ended
                    run.kill_failed = exc
                run.killed_at = time.monotonic() - t0

    run.result = plugin.call(data, LONG_STREAM_LIMIT, on_chunk)
    run.took = time.monotonic() - t0
    if run.kill_failed is not None:
        raise run.kill_failed
    assert run.result.ended, f"the plugin did not end the session: {run.result.violation}"
    return run


def _describe(run: _Streamed) -> str:
    first = "none" if run.first_chunk is None else f"{run.first_chunk:.2f} s"
    kill = "" if run.killed_at is None else f", kill at {run.killed_at:.2f} s ({run.killed})"
    error = run.result.error and f"{run.result.error['error_type']}: {run.result.error['message']}"
    chunks = len(run.result.chunks)
    return f"first chunk {first}{kill}, {chunks} chunks, finish {run.finish}, end {run.took:.2f} s, {error}"


def test_model_process_killed_mid_stream(plugin, fault):
    """The long writer launched beside the chat model (which the other tests keep using): unkilled, its
    answer runs to LONG_TOKENS for seconds; killed at the first chunk, the rest cannot come, so the kill
    lands mid-stream by construction, whatever the machine's load. A run in which it did not fails."""
    fault.launch(fault.long_writer_launch())  # kill_model(LONG_UID): the processes this launch started
    try:
        titles = fault.process_titles(LONG_UID)
        print(f"the long writer's processes: {titles}")
        assert any(f"Model: {LONG_UID}" in title for title in titles), titles
        whole = _stream_long_writer(plugin, fault)
        print(f"unkilled: {_describe(whole)}")
        assert whole.result.error is None and whole.finish == "length", _describe(whole)
        cut = _stream_long_writer(plugin, fault, kill=True)
        print(f"killed mid-stream: {_describe(cut)}")
        assert cut.killed, f"no chunk came, so no kill landed mid-stream: {_describe(cut)}"
        assert cut.result.error is not None, (
            f"the whole answer came before the kill landed: {_describe(cut)}"
            if cut.text == whole.text
            else f"a cut-off stream passed as an answer: {_describe(cut)}"
        )
        assert len(cut.result.chunks) < len(whole.result.chunks), _describe(cut)
        typed = ("InvokeConnectionError", "InvokeServerUnavailableError")
        assert cut.result.error["error_type"] in typed, cut.result.error
        # the timeout bounds each wait for the next piece: the error comes within it of the kill (+5 s for
        # the plugin process to report it)
        after_kill = cut.took - (cut.killed_at or 0.0)
        assert after_kill < TIMEOUT + 5, f"the error came {after_kill:.1f} s after the kill"
        print(f"the error came {after_kill:.2f} s after the kill")
        _serving_again(plugin, fault, whole.text)
    finally:
        with contextlib.suppress(Exception):
            fault.terminate_model(LONG_UID)


def _serving_again(plugin, fault: FaultServer, answer: str) -> None:
    """Xinference's worker relaunches a model whose process died (unbounded by default); then the same
    plugin process streams its whole answer again. The chat model beside it was never touched."""
    t0 = time.monotonic()
    if not fault.wait_until_serving(240, LONG_UID):
        fault.terminate_model(LONG_UID)
        fault.launch(fault.long_writer_launch())
    again = _stream_long_writer(plugin, fault)
    print(f"serving again {time.monotonic() - t0:.1f} s after the kill test: {_describe(again)}")
    assert again.result.error is None and again.text == answer, _describe(again)
    assert llm_text(ok(plugin, _chat(fault, stream=True))) == HELLO


def test_uid_relaunched_as_a_different_model(plugin, fault):
    """A chat + tools model (context 2,048) replaced under the same UID by a generate-only one (1,024),
    with no call in between: what the plugin reports before and after it notices."""
    # validation reads the description afresh: it is cached from here on for DESCRIPTION_TTL
    ok(plugin, payloads.validate("llm", "my-llm", _creds(fault)))
    cached_at = time.monotonic()
    schema = payloads.schema("llm", "my-llm", _creds(fault))
    before = ok(plugin, schema)[-1]["model_schema"]
    assert before["model_properties"] == {"mode": "chat", "context_size": 2048}
    fault.terminate_model()
    fault.launch(fault.generate_launch())
    first = call(plugin, _chat(fault, stream=False), timeout=TIMEOUT + 30)
    stale = time.monotonic() - cached_at < DESCRIPTION_TTL  # else the cache expired during the relaunch
    second = call(plugin, _chat(fault, stream=False), timeout=TIMEOUT + 30)
    after = ok(plugin, schema)[-1]["model_schema"]
    print("first:", first.error, "second:", second.error, "after:", after["model_properties"])
    assert second.error is None, second.error
    assert after["model_properties"] == {"mode": "completion", "context_size": 1024}
    if not stale:
        assert first.error is None, first.error
        return
    # the first call still went out as a chat (described as before); its error says why, and what changed
    assert first.error is not None, "a chat to a generate-only model succeeded"
    assert "not the one the plugin knew" in first.error["message"], first.error
    assert "now test-tiny-qwen2-tools-base (llm: generate; context 1024)" in first.error["message"]
