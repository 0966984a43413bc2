"""What a plugin process remembers between invocations, and the one way to forget it all.

Dify keeps nothing a plugin learns, so the process keeps a few things itself, each bounded (a plugin
process may serve many servers, UIDs and keys for days):

| store                                        | bound          | lifetime                              |
|----------------------------------------------|----------------|---------------------------------------|
| model descriptions (model_info.DESCRIPTIONS)  | 1,024 entries  | 300 s; a failed look-up 10 s          |
| built schemas (schemas.SCHEMAS)               | 256 entries    | 10 s                                  |
| streamed-tools refusals (llm, fallback memo)  | 256 entries    | 600 s                                 |
| keep-alive sessions (sessions.py)             | 64 sessions    | process                               |
| parsed credential forms (credentials.py)      | 256 forms      | process (LRU)                         |
| token-estimate piece prices (tokens.py)       | 50,000 pieces  | process                               |

The first three are `TTLMap`s (below). Every store registers its clear-out with `on_reset`;
`reset_process_state()` runs them all, so tests and benchmarks start like a fresh plugin process
without reaching for private names.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

_RESETS: list[Callable[[], None]] = []


def on_reset(clear: Callable[[], None]) -> None:
    """Register how a process-wide store forgets what it holds (see `reset_process_state`)."""
    _RESETS.append(clear)


def reset_process_state() -> None:
    """Forget everything the process learned: as if the daemon had just started the plugin."""
    for clear in _RESETS:
        clear()


class TTLMap:
    """A thread-safe map whose entries expire `ttl` seconds after they were put, holding at most
    `max_entries` (the oldest put goes first). `clock` is injectable so tests can move time."""

    def __init__(self, *, max_entries: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()

    def get(self, key: Hashable, default: Any = None) -> Any:
        """The live value, or `default` (an expired entry is dropped on the way)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return default
            if entry[0] <= self._clock():
                del self._entries[key]
                return default
            return entry[1]

    def put(self, key: Hashable, value: Any, ttl: float) -> None:
        with self._lock:
            self._entries.pop(key, None)
            self._entries[key] = (self._clock() + ttl, value)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def pop(self, key: Hashable) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
