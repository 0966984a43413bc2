"""Shared pieces: results, timing helpers, the target server and its request counter."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from bench.budgets import BUDGETS
from models._xinference.process_state import reset_process_state


@dataclass
class Result:
    key: str
    value: float
    plugin: str  # the plugin's measurement, human readable
    raw: str  # the same call made with plain requests (the physical limit), human readable
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool | None:
        return BUDGETS[self.key].holds(self.value)

    def as_json(self) -> dict[str, Any]:
        budget = BUDGETS[self.key]
        return {
            "key": self.key,
            "label": budget.label,
            "value": self.value,
            "unit": budget.unit,
            "budget": budget.limit,
            "op": budget.op,
            "pass": self.passed,
            "plugin": self.plugin,
            "raw": self.raw,
            "details": self.details,
        }


def median(values: list[float]) -> float:
    return statistics.median(values)


def fresh_process_state() -> None:
    """Forget what a plugin process learns over time (caches, pooled sessions)."""
    reset_process_state()


def interleaved(
    reps: int, plugin: Callable[[], float], raw: Callable[[], float]
) -> tuple[list[float], list[float]]:
    """Run both measurements `reps` times, alternating which goes first, so drift and noise from
    other processes on the machine fall on both sides alike."""
    plugin_times, raw_times = [], []
    for i in range(reps):
        if i % 2:
            raw_times.append(raw())
            plugin_times.append(plugin())
        else:
            plugin_times.append(plugin())
            raw_times.append(raw())
    return plugin_times, raw_times


class AdapterCounter:
    """Counts HTTP requests made in this process (for a real server, which cannot count for us)."""

    def __init__(self) -> None:
        self.count = 0
        self.last_post: tuple[str, bytes] = ("", b"")
        self._lock = threading.Lock()
        self._original = requests.adapters.HTTPAdapter.send

    def __enter__(self) -> AdapterCounter:
        counter, original = self, self._original

        def send(adapter, request, *args, **kwargs):
            with counter._lock:
                counter.count += 1
                if request.method == "POST":
                    counter.last_post = (request.path_url, request.body or b"")
            return original(adapter, request, *args, **kwargs)

        requests.adapters.HTTPAdapter.send = send
        return self

    def __exit__(self, *exc: object) -> None:
        requests.adapters.HTTPAdapter.send = self._original


@dataclass
class Target:
    """Where the calls go: a server URL, the model UIDs to use and a request counter."""

    url: str
    llm_uid: str
    embed_uid: str
    count: Callable[[], int]  # requests received so far (monotonic)
    last_post: Callable[[], tuple[str, bytes]]  # (path, body) of the latest POST, to replay raw
    kind: str = "replay"
    api_key: str | None = None

    def session(self) -> requests.Session:
        """The plain-requests side of each comparison."""
        session = requests.Session()
        if self.api_key:
            session.headers["Authorization"] = f"Bearer {self.api_key}"
        return session

    def credentials(self, uid: str, **extra: str) -> dict[str, str]:
        if self.api_key:
            extra = {"api_key": self.api_key, **extra}
        return {
            "server_url": self.url,
            "model_uid": uid,
            "invoke_timeout": "120",
            "max_retries": "0",
            **extra,
        }


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start
