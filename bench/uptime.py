"""Weeks of uptime in a few minutes: one plugin process (stdio, as the daemon runs it) serves 20,000 mixed
calls against the replay server, and its RSS, open file descriptors and threads are sampled every 1,000.

The mix, in a fixed cycle: chat blocking and streamed, with and without tools; embeddings; rerank;
schemas; errors of every kind (unknown UID, wrong model type, a rejected key, a refused connection, a
failed validation, malformed credentials); and cancelled streams. The stdio protocol has no cancel message:
when a Dify user presses stop, the daemon stops reading, so a cancelled stream here is one whose session
the bench abandons right after sending it (the plugin still serves it, concurrently with what follows).

Two runs: one set of credentials per model, then 2,000 distinct credentials (Dify load balancing, many
tenants: each a different API key, hence its own pooled session and description-cache entry).
Budgets (bench/budgets.py): after warm-up RSS grows at most 5 MB, open FDs and threads end at or below
their after-warm-up level (with 2,000 credentials: FDs within 2 of it, as the 64 pooled sessions take
turns holding a connection, and threads within 1, as gevent's resolver pool grows to the peak of
concurrent connects), and every call ends as expected.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import Result
from tools.console import payloads
from tools.console.runtime import PluginProcess
from tools.console.session import SessionTimeout
from tools.replay.server import ReplayServer

REPO = Path(__file__).resolve().parent.parent
MB = 1024 * 1024
KEYS = frozenset(
    f"uptime_{scope}{what}"
    for scope in ("", "creds_")
    for what in ("rss_growth", "fds_delta", "threads_delta", "unexpected")
)
USER = [{"role": "user", "content": "Hello"}]
TOOL = {
    "name": "get_weather",
    "description": "Get the current weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Mix:
    """The cycle of calls; `creds(uid)` gives the credentials of the call (one set, or a tenant's)."""

    def __init__(self, url: str, auth_url: str, creds: Callable[[str], dict]) -> None:
        self.url, self.auth_url, self.creds = url, auth_url, creds
        self.refused = f"http://127.0.0.1:{_closed_port()}"

    def calls(self) -> list[tuple[str, bool, Callable[[], dict]]]:
        """(name, expected to succeed, payload factory); the factory is called per call."""
        c, llm, tools = self.creds, payloads.invoke_llm, "test-tiny-qwen2-tools"
        return [
            ("chat", True, lambda: llm("m", c("test-llm"), USER, stream=False)),
            ("chat_stream", True, lambda: llm("m", c("test-llm"), USER, stream=True)),
            ("tools", True, lambda: llm("m", c(tools), USER, tools=[TOOL], stream=False)),
            ("tools_stream", True, lambda: llm("m", c(tools), USER, tools=[TOOL], stream=True)),
            ("embed", True, lambda: payloads.embed("m", c("test-embed"), ["a", "b", "c"])),
            ("rerank", True, lambda: payloads.rerank("m", c("test-rerank"), "q", ["a", "b", "c"])),
            ("schema", True, lambda: payloads.schema("llm", "m", c("test-llm"))),
            ("cancelled", True, lambda: llm("m", c("test-llm"), USER, stream=True)),
            ("unknown_uid", False, lambda: llm("m", c("no-such-model"), USER, stream=False)),
            ("wrong_type", False, lambda: payloads.embed("m", c("test-llm"), ["a"])),
            ("bad_key", False, lambda: payloads.embed("m", self._other("test-embed", self.auth_url), ["a"])),
            ("refused", False, lambda: llm("m", self._other("test-llm", self.refused), USER, stream=True)),
            ("validate", False, lambda: payloads.validate("llm", "m", c("no-such-model"))),
            ("bad_creds", False, lambda: llm("m", {"server_url": "ftp://x", "model_uid": "m"}, USER)),
            ("chat_stream", True, lambda: llm("m", c("test-llm"), USER, stream=True)),
            ("embed", True, lambda: payloads.embed("m", c("test-embed"), ["d"])),
            ("tools_stream", True, lambda: llm("m", c(tools), USER, tools=[TOOL], stream=True)),
            ("rerank", True, lambda: payloads.rerank("m", c("test-rerank"), "q", ["d", "e"])),
            ("chat", True, lambda: llm("m", c("test-llm"), USER, stream=False)),
            ("cancelled", True, lambda: llm("m", c(tools), USER, tools=[TOOL], stream=True)),
        ]

    def _other(self, uid: str, url: str) -> dict:
        return {**self.creds(uid), "server_url": url, "api_key": "sk-not-the-right-key"}


def _fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _threads(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("Threads:"))


def _sample(plugin: PluginProcess, done: int) -> dict:
    pid = plugin.pid
    return {
        "calls": done,
        "rss_mb": round(plugin.rss_bytes() / MB, 2),
        "fds": _fds(pid),
        "threads": _threads(pid),
    }


def _serve(plugin: PluginProcess, mix: _Mix, total: int, every: int) -> tuple[list[dict], list[str]]:
    cycle = mix.calls()
    samples, unexpected = [_sample(plugin, 0)], []
    for i in range(total):
        name, succeeds, payload = cycle[i % len(cycle)]
        if name == "cancelled":
            with contextlib.suppress(SessionTimeout):
                plugin.call(payload(), timeout=0.0005)  # sent, then no longer read
        else:
            result = plugin.call(payload(), timeout=60)
            if not result.ended or (result.error is None) != succeeds:
                unexpected.append(f"{i} {name}: {result.error or 'no error'}"[:300])
        if (i + 1) % every == 0:
            samples.append(_sample(plugin, i + 1))
    time.sleep(1.0)  # abandoned streams finish, idle threads exit
    samples.append({**_sample(plugin, total), "idle": True})
    return samples, unexpected


def run(total: int, every: int, warmup: int, tenants: int | None, prefix: str) -> list[Result]:
    with ReplayServer() as server, ReplayServer(api_key="sk-the-right-key") as auth:
        if tenants:
            counter = iter(range(10**9))

            def creds(uid: str) -> dict:
                return _credentials(server.url, uid, f"sk-tenant-{next(counter) % tenants}")
        else:

            def creds(uid: str) -> dict:
                return _credentials(server.url, uid, None)

        plugin = PluginProcess(plugin_root=REPO, python=sys.executable)
        try:
            plugin.start(timeout=60)
            t0 = time.monotonic()
            samples, unexpected = _serve(plugin, _Mix(server.url, auth.url, creds), total, every)
            took = time.monotonic() - t0
        finally:
            plugin.stop()
            plugin.violations.clear()  # the abandoned sessions' late replies
    return _results(prefix, samples, unexpected, warmup, {"calls": total, "tenants": tenants or 1, "s": took})


def _credentials(url: str, uid: str, api_key: str | None) -> dict:
    creds = {"server_url": url, "model_uid": uid, "invoke_timeout": "30", "max_retries": "0"}
    return {**creds, "api_key": api_key} if api_key else creds


def _results(
    prefix: str, samples: list[dict], unexpected: list[str], warmup: int, info: dict
) -> list[Result]:
    base = next(s for s in samples if s["calls"] >= warmup)
    later = [s for s in samples if s["calls"] > base["calls"]]
    end = samples[-1]
    growth = max(s["rss_mb"] for s in later) - base["rss_mb"]
    details = {**info, "after_warmup": base, "samples": samples, "unexpected": unexpected[:20]}
    rate = f"{info['calls'] / info['s']:.0f} calls/s"
    return [
        Result(
            f"{prefix}rss_growth",
            round(growth, 2),
            f"{base['rss_mb']} -> max {base['rss_mb'] + growth:.1f} MB",
            rate,
            details,
        ),
        Result(
            f"{prefix}fds_delta",
            end["fds"] - base["fds"],
            f"{base['fds']} -> {end['fds']} FDs",
            f"max {max(s['fds'] for s in samples)}",
        ),
        Result(
            f"{prefix}threads_delta",
            end["threads"] - base["threads"],
            f"{base['threads']} -> {end['threads']} threads",
            "",
        ),
        Result(f"{prefix}unexpected", len(unexpected), f"{len(unexpected)} of {info['calls']}", ""),
    ]


def measure(quick: bool) -> list[Result]:
    # warm-up covers the description cache filling up (1,024 entries) in the 2,000-credential run
    total, every, warmup = (3000, 250, 1500) if quick else (20000, 1000, 2000)
    single = run(total, every, warmup, None, "uptime_")
    many = run(total, every, warmup, 2000, "uptime_creds_")
    return single + many
