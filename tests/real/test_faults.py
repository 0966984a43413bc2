"""What happens around the answer, on a real Xinference 4.1.0 of its own (fault_server.py), through the
one plugin process of the run: the server restarted between two calls, the model's process killed
mid-stream (SIGKILL, as the OOM killer does), and a UID relaunched as a different model.

The tests run in file order and share the fault server; each leaves the model serving for the next.

The mid-stream kill needs the kill to land between the first chunk and the last. The tiny model writes its
answer in a few ms, so the test holds its process back with SIGSTOP/SIGCONT slices. That worked on a loaded
machine, but on an idle one no chunk came through within the 30 s read timeout even with 2.4 s slices (seen
three times; not understood yet — a matter of this test's throttle, not of the plugin). When no try lands
mid-stream the test is skipped with that reason instead of passing; whenever a kill does land, every
assertion on what the plugin reports holds as before.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time

import pytest

from models._xinference.model_info import DESCRIPTIONS
from tests.real.fault_server import MODELS, PYTHON, UID, FaultServer
from tests.real.support import HELLO, call, credentials, error_of, llm_text, ok
from tools.console import payloads

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


class _Throttle:
    """Keeps the model's processes stopped but for short slices every 0.2 s: the tiny model writes a dozen
    tokens in a few ms, so unthrottled it would finish before its first chunk reached the plugin; held
    back, it is still generating when the kill lands. How long a slice must be depends on the machine's
    load (too short starves it past the read timeout, too long lets it finish): the test adapts it."""

    def __init__(self, pids: list[int], slice_s: float) -> None:
        self.pids = pids
        self.slice_s = slice_s
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _signal(self, sig: int) -> None:
        for pid in self.pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)

    def _run(self) -> None:
        while not self.done.is_set():
            self._signal(signal.SIGSTOP)
            self.done.wait(0.2)
            self._signal(signal.SIGCONT)
            time.sleep(self.slice_s)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join()
        self._signal(signal.SIGCONT)


def _kill_mid_stream(plugin, fault: FaultServer, slice_s: float):
    """One streamed chat during which the model's processes are SIGKILLed at the first chunk."""
    killed: list[int] = []
    killed_at = [0.0]

    def on_chunk(_chunk: dict) -> None:
        if not killed:
            killed.extend(fault.kill_model())
            killed_at[0] = time.monotonic()

    pids = fault.model_processes()
    print(f"throttling {pids} with {slice_s * 1000:.0f} ms slices")
    with _Throttle(pids, slice_s):
        result = plugin.call(_chat(fault, stream=True, max_retries="0"), TIMEOUT + 60, on_chunk)
    return result, killed, time.monotonic() - killed_at[0]


def _serving_again(plugin, fault: FaultServer) -> None:
    """Xinference's worker relaunches a model whose process died (unbounded by default); then the same
    plugin process serves it again."""
    if not fault.wait_until_serving(240):
        fault.terminate_model()
        fault.launch(fault.chat_launch())
    assert llm_text(ok(plugin, _chat(fault, stream=True))) == HELLO


def test_model_process_killed_mid_stream(plugin, fault):
    assert llm_text(ok(plugin, _chat(fault, stream=True))) == HELLO
    # The kill must land between the first chunk and the last: on a loaded machine the whole answer may
    # still come first, or the held-back model no chunk before the read timeout; such a try is repeated.
    slice_s = 0.01
    for _attempt in range(3):
        result, killed, took = _kill_mid_stream(plugin, fault, slice_s)
        assert result.ended
        text = llm_text(result.chunks)
        if not killed:  # starved: no chunk within the read timeout; longer slices
            err = (result.error or {}).get("message")
            print(f"no chunk before the kill could land with {slice_s * 1000:.0f} ms slices ({err}); again")
            slice_s *= 3
            continue
        if result.error is None and text == HELLO:  # finished before the kill; shorter slices
            print(f"the whole answer came before the kill with {slice_s * 1000:.0f} ms slices; again")
            _serving_again(plugin, fault)
            slice_s /= 2
            continue
        break
    if not killed or (result.error is None and text == HELLO):
        pytest.skip(
            "three tries, no kill landed between the first chunk and the last (see the module docstring)"
        )
    assert result.error is not None, f"a cut-off stream passed as an answer: {text!r}"
    typed = ("InvokeConnectionError", "InvokeServerUnavailableError")
    assert result.error["error_type"] in typed, result.error
    # the timeout bounds each wait for the next piece: the error comes within it of the kill
    assert took < TIMEOUT + 5, f"the error came {took:.0f} s after the kill"
    print(f"killed {killed} mid-stream: {result.error['error_type']} {took:.1f} s later: {result.error}")
    _serving_again(plugin, fault)


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
