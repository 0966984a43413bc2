"""One plugin process against a real two-worker cluster: load spread over replicas, then a worker dies.

The cluster (tools/real_xinference/run_cluster.py): the tiny tools LLM with replica 0 on worker a and
replica 1 on worker b, the embedding model on worker a only. Test order matters (file order): the
second test kills worker b for good.
"""

from __future__ import annotations

import os
import re
import signal
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

import pytest

from tests.cluster.support import (
    INVOKE_TIMEOUT,
    UIDS,
    WORKERS,
    active_replicas,
    credentials,
    delta,
    mixed_kinds,
    pause,
    record,
    replica_requests,
    run_many,
    run_session,
    summary,
)
from tools.console import payloads

pytestmark = pytest.mark.real

LLM_REPLICAS = {"a": "replica 0", "b": "replica 1"}
# a worker that dies under a request: the plugin's typed errors for a cut connection / failed server
DEATH_ERRORS = {"InvokeConnectionError", "InvokeServerUnavailableError"}
DETECTION_BOUND = 150  # s: Xinference's default health check declared a dead worker after 25 s here


def test_50_mixed_sessions_all_succeed_spread_over_both_replicas(plugin):
    assert sorted(active_replicas(UIDS["llm"])) == [f"{UIDS['llm']}-rep0", f"{UIDS['llm']}-rep1"]
    before = replica_requests()
    t0 = time.monotonic()
    outcomes = run_many(plugin, mixed_kinds(50))
    wall = time.monotonic() - t0
    spread = delta(replica_requests(), before)
    result = summary(outcomes) | {"wall time (s)": round(wall, 1), "requests per replica": spread}
    record("50 mixed sessions", result)
    failed = [f"#{o.i} {o.kind}: {o.error_type or ''} {o.message} {o.problems}" for o in outcomes if not o.ok]
    assert not failed, failed
    llm = {w: spread.get(f"{w}/{UIDS['llm']} {rep}", 0) for w, rep in LLM_REPLICAS.items()}
    assert llm["a"] > 0 and llm["b"] > 0, f"the LLM sessions did not reach both replicas: {spread}"
    assert spread.get(f"a/{UIDS['embed']} replica 0", 0) > 0, spread
    assert not any(k.startswith(f"b/{UIDS['embed']}") for k in spread), spread


def test_worker_stopped_mid_run(plugin):
    kinds = mixed_kinds(30)
    with ThreadPoolExecutor(len(kinds)) as pool:
        futures = [pool.submit(run_session, plugin, k, 100 + n) for n, k in enumerate(kinds)]
        _wait_until_some_done(futures, count=4, timeout=120)
        killed_at = _kill_worker("b")
        outcomes = [f.result() for f in futures]
    in_flight = [o for o in outcomes if o.ended > killed_at]
    during = summary(in_flight, since=killed_at) | {
        "finished before the kill": len(outcomes) - len(in_flight)
    }
    gap, detected_after = _sessions_until_rerouted(plugin, killed_at)
    before = replica_requests(("a",))
    later = run_many(plugin, mixed_kinds(10), first=300)
    report = {
        "in flight at the kill": during,
        "error messages (distinct)": _distinct_messages(in_flight + gap),
        "sessions while the supervisor still routed to the dead replica": summary(gap),
        "dead worker dropped by the supervisor after (s)": round(detected_after, 1),
        "later sessions": summary(later),
        "later requests per replica": delta(replica_requests(("a",)), before),
    }
    record("worker b killed mid-run", report)

    wrong = [f"#{o.i} {o.kind}: {p}" for o in outcomes + gap + later for p in o.problems]
    assert not wrong, wrong  # no hang, no short answer, no protocol violation
    untyped = [
        (o.i, o.error_type, o.message) for o in in_flight + gap if o.error_type not in (None, *DEATH_ERRORS)
    ]
    assert not untyped, untyped
    assert any(o.error_type for o in in_flight), f"the kill hit no session in flight: {during}"
    unnamed = [(o.i, o.message) for o in in_flight + gap if o.error_type and UIDS["llm"] not in o.message]
    assert not unnamed, f"errors that do not say which model failed: {unnamed}"
    dead_address = WORKERS["b"]["address"]
    errors = [o.message for o in in_flight + gap if o.error_type]
    worker_down = [m for m in errors if "Connect call failed" in m]
    assert all(f"worker at {dead_address}" in m and "is down" in m for m in worker_down), worker_down
    # one session at a time: the supervisor's 500 for the dead replica is retried (Max retries 1) and its
    # round robin hands the retry to replica 0, so none of these sessions fails
    assert all(o.ok for o in gap), summary(gap)
    late = [
        (o.i, round(o.ended - killed_at, 1)) for o in in_flight if o.ended - killed_at > INVOKE_TIMEOUT + 15
    ]
    assert not late, f"sessions ended long after the invoke timeout: {late}"
    assert all(o.ok for o in later), summary(later)
    assert plugin.returncode is None, "the plugin process died"
    validate = plugin.call(payloads.validate("llm", "cluster-llm", credentials(UIDS["llm"])), timeout=120)
    assert validate.error is None, validate.error


def _wait_until_some_done(futures, count: int, timeout: float) -> None:
    """Return once `count` sessions have ended (the others are in flight); TimeoutError after `timeout`."""
    for done, _ in enumerate(as_completed(futures, timeout=timeout), start=1):
        if done >= count:
            return


def _kill_worker(name: str) -> float:
    """SIGKILL the worker's whole process group (worker and its model processes): a machine dying."""
    os.killpg(WORKERS[name]["pgid"], signal.SIGKILL)
    return time.monotonic()


def _sessions_until_rerouted(plugin, killed_at: float):
    """One LLM and one embedding session a second until the supervisor drops the dead replica."""
    dead = f"{UIDS['llm']}-rep1"
    outcomes = []
    for n in range(DETECTION_BOUND):
        if dead not in active_replicas(UIDS["llm"]):
            return outcomes, time.monotonic() - killed_at
        assert time.monotonic() - killed_at < DETECTION_BOUND, (
            f"{dead} still routed after {DETECTION_BOUND} s"
        )
        outcomes += run_many(plugin, ["chat-blocking", "embed"], first=200 + 2 * n)
        pause(1)
    raise AssertionError(f"{dead} still routed after {DETECTION_BOUND} rounds")


def _distinct_messages(outcomes) -> list[str]:
    """Each different error message once (ports and pids blanked, so that one cause counts once)."""
    seen: dict[str, str] = {}
    for o in outcomes:
        if o.error_type:
            key = re.sub(r"\d+", "#", o.message)
            seen.setdefault(key, f"{o.error_type}: {o.message[:600]}")
    return list(seen.values())
