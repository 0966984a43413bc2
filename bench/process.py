"""The plugin as the daemon runs it (stdio): startup to first heartbeat, RSS idle and under 50
concurrent streaming sessions (6)."""

from __future__ import annotations

import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.common import Result, Target, median
from tools.console import payloads
from tools.console.runtime import PluginProcess

REPO = Path(__file__).resolve().parent.parent
MB = 1024 * 1024
MESSAGES = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Say hi"}]


def startup(reps: int) -> Result:
    times = []
    for _ in range(reps):
        plugin = PluginProcess(plugin_root=REPO, python=sys.executable)
        try:
            times.append(plugin.start(timeout=60))
        finally:
            plugin.stop()
    s = median(times)
    return Result(
        "startup_heartbeat", round(s, 3), f"{s:.2f} s", "n/a", {"runs_s": [round(t, 3) for t in times]}
    )


def _sample_rss(plugin: PluginProcess, seconds: float) -> int:
    samples = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        samples.append(plugin.rss_bytes())
        time.sleep(0.05)
    return int(median(samples))


def memory(target: Target, sessions: int) -> list[Result]:
    llm = target.credentials(target.llm_uid)
    embed = target.credentials(target.embed_uid)
    plugin = PluginProcess(plugin_root=REPO, python=sys.executable)
    try:
        plugin.start(timeout=60)
        at_start = _sample_rss(plugin, 1.0)
        # one call of each kind first: what a plugin looks like between requests once it served some
        plugin.call(
            payloads.invoke_llm(target.llm_uid, llm, MESSAGES, stream=True), timeout=120
        ).raise_for_error()
        plugin.call(payloads.embed(target.embed_uid, embed, ["warm up"]), timeout=120).raise_for_error()
        idle = _sample_rss(plugin, 1.0)

        peak, stop = [0], threading.Event()

        def sample() -> None:
            while not stop.is_set():
                peak[0] = max(peak[0], plugin.rss_bytes())
                time.sleep(0.01)

        def one(_: int):
            return plugin.call(payloads.invoke_llm(target.llm_uid, llm, MESSAGES, stream=True), timeout=300)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.perf_counter()
        with ThreadPoolExecutor(sessions) as pool:
            outcomes = list(pool.map(one, range(sessions)))
        wall = time.perf_counter() - started
        stop.set()
        sampler.join()
        ok = sum(1 for o in outcomes if o.ended and o.error is None and not o.violation and o.chunks)
        errors = [str(o.error or o.violation)[:200] for o in outcomes if o.error or o.violation][:3]
        after = _sample_rss(plugin, 0.5)
    finally:
        plugin.stop()
    load_details = {
        "sessions": sessions,
        "sessions_ok": ok,
        "wall_s": round(wall, 3),
        "after_mb": after / MB,
        "errors": errors,
        "violations": plugin.violations[:3],
    }
    peak_mb = peak[0] / MB
    if ok < sessions:  # a peak over failed sessions proves nothing
        peak_mb = float("inf")
    idle_mb = max(at_start, idle) / MB
    return [
        Result(
            "rss_idle",
            round(idle_mb, 1),
            f"{at_start / MB:.1f} MB at start, {idle / MB:.1f} MB after use",
            "n/a",
            {"at_start_mb": at_start / MB, "after_use_mb": idle / MB},
        ),
        Result(
            "rss_50_streams",
            round(peak_mb, 1),
            f"peak {peak[0] / MB:.1f} MB, {ok}/{sessions} sessions ok",
            "n/a",
            load_details,
        ),
    ]
