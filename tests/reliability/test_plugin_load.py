"""Load: 200 concurrent sessions of mixed actions through one plugin process.

Each session's chunks must equal, exactly, what the same action gives when run alone (usage
latency aside): nothing crossed between sessions, nothing lost, no errors. A first round warms the
process up (thread pools, connection pools); the second round must not grow its threads, sockets or
memory, and memory stays inside the manifest's resource.memory.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from tests.reliability.hostile_server import HostileServer
from tests.reliability.plugin_harness import ACTIONS, HELLO, GuardedPlugin, creds
from tools.console import payloads

SESSIONS = 200
POOL_MAXSIZE = 128
MIX = ["llm_stream", "llm_block", "embed", "rerank", "validate"]
MANIFEST_MEMORY = yaml.safe_load(Path("manifest.yaml").read_text())["resource"]["memory"]


@pytest.fixture(scope="module")
def setup():
    # frames 5 ms apart, so 200 streams really are in flight together and interleave on stdout
    with HostileServer(frame_delay=0.005) as server:
        process = GuardedPlugin()
        process.start()
        try:
            yield process, server
            assert process.blocked_contacts() == []
        finally:
            process.stop()


def _normalise(value):
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items() if k != "latency"}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    return value


def _threads(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def _sockets(pid: int) -> int:
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):  # the fd closed while we looked
            count += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
    return count


def _request(action: str, session: int, url: str) -> dict:
    """Every session has its own tag, in the Dify model name (echoed in every chunk) and the
    model UID (echoed by validation), so a chunk delivered to the wrong session shows."""
    tag = f"s{session:03d}x"
    uid, _ = ACTIONS[action]
    c = creds(url, f"{uid.split('-')[0]}-{tag}", invoke_timeout="60")
    return {
        "llm_stream": lambda: payloads.invoke_llm(f"m-{tag}", c, HELLO, stream=True),
        "llm_block": lambda: payloads.invoke_llm(f"m-{tag}", c, HELLO, stream=False),
        "embed": lambda: payloads.embed(f"m-{tag}", c, ["alpha", "beta", tag]),
        "rerank": lambda: payloads.rerank(f"m-{tag}", c, "capital", ["Paris", tag, "Rome"]),
        "validate": lambda: payloads.validate("llm", f"m-{tag}", c),
    }[action]()


def _normalised(result, session: int):
    return json.loads(json.dumps(_normalise(result.chunks)).replace(f"s{session:03d}x", "<tag>"))


def _round(process, url: str, expected: dict) -> tuple[int, int]:
    sessions = [(MIX[i % len(MIX)], i) for i in range(SESSIONS)]

    def run(item):
        action, session = item
        return action, session, process.call(_request(action, session, url), timeout=120)

    with ThreadPoolExecutor(max_workers=SESSIONS) as pool:
        results = list(pool.map(run, sessions))
    crossed = lost = errors = 0
    for action, session, result in results:
        errors += result.error is not None or not result.ended or result.violation is not None
        got = _normalised(result, session)
        if got != expected[action]:
            lost += len(got) < len(expected[action])
            crossed += len(got) >= len(expected[action])
    assert (crossed, lost, errors) == (0, 0, 0), f"crossed={crossed} lost={lost} errors={errors}"
    return crossed, lost


def _settled(measure, pid: int, ceiling: int, seconds: float = 10.0) -> int:
    """Idle keep-alive sockets and finishing threads take a moment to go; wait for them, bounded."""
    deadline = time.monotonic() + seconds
    value = measure(pid)
    while value > ceiling and time.monotonic() < deadline:
        time.sleep(0.2)
        value = measure(pid)
    return value


def test_200_concurrent_mixed_sessions(setup):
    process, server = setup
    url = server.url("ok")
    expected = {}
    for action in MIX:  # each action alone: the reference sequence of chunks
        result = process.call(_request(action, 999, url), timeout=30)
        assert result.error is None, result.error
        expected[action] = _normalised(result, 999)
    assert len(expected["llm_stream"]) >= 4, "the stream must have several chunks to be able to cross"

    _round(process, url, expected)  # warm-up: pools fill to their working size
    pid = process.pid
    threads, sockets, rss = _threads(pid), _sockets(pid), process.rss_bytes()
    _round(process, url, expected)
    _round(process, url, expected)  # 600 sessions after the warm-up: a per-session leak would show
    threads_after = _settled(_threads, pid, threads + 2)
    # keep-alive connections are pooled (pooled_session: pool_maxsize=128 for the one server), so the
    # count may rise to that bound in a round that needed more; a leak would grow past it
    bound = max(sockets, POOL_MAXSIZE) + 4
    sockets_after = _settled(_sockets, pid, bound)
    rss_after = process.rss_bytes()
    print(
        f"\nload: threads {threads}->{threads_after}, sockets {sockets}->{sockets_after}, "
        f"rss {rss / 2**20:.0f}->{rss_after / 2**20:.0f} MiB"
    )
    assert threads_after <= threads + 2, "threads leak"
    assert sockets_after <= bound, "sockets leak"
    assert rss_after - rss < 32 * 2**20, "memory grows per round"
    assert rss_after < MANIFEST_MEMORY, "more memory than manifest resource.memory declares"
    assert process.returncode is None and process.violations == []
