"""mutmut's command line, with its timeout signal sent only to the mutant runs it started.

mutmut 3.8.1 (mutmut/workers/timeout.py) remembers (deadline, pid) for every mutant run and, when the
deadline passes, sends SIGXCPU to that pid whether the run ended long ago or not. On a busy machine
(pid_max 32,768; real Xinference servers start hundreds of threads) a finished run's pid is soon given
to another process, which then dies of the signal: beside `make mutants` it killed a plugin process
30 s into a real-server test and an Xinference server during its start (both "exit code -24").

Here each run's start time (/proc/<pid>/stat, field 22) is noted when its timeout is registered, and
the signal goes out only while that same process still holds the pid. Used by tools/mutants.py:

  python -m tools.mutmut_guarded run --max-children 2 ...
"""

from __future__ import annotations

import os
import signal
import sys
from collections import defaultdict, deque

# pid -> start times of the runs registered under it, oldest first (mutmut's heap pops the earliest
# deadline first; a pid reused by a later run has a later deadline)
_started: defaultdict[int, deque[bytes | None]] = defaultdict(deque)


def start_time(pid: int) -> bytes | None:
    """The kernel's start time of `pid`, or None when no such process exists."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            data = stat.read()
    except OSError:
        return None
    # the command name (field 2) may hold spaces and ')': count from after its last ')' (field 3 on)
    fields = data.rsplit(b")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


def note(pid: int) -> None:
    """Remember which process holds `pid` now: the one mutmut is about to give a deadline."""
    _started[pid].append(start_time(pid))


class OsForTheTimeoutChecker:
    """What mutmut's timeout module sees as `os`: a kill that checks it still has the same process."""

    def __getattr__(self, name: str):
        return getattr(os, name)

    @staticmethod
    def kill(pid: int, sig: int) -> None:
        if sig == signal.SIGXCPU:
            runs = _started.get(pid)
            noted = runs.popleft() if runs else None
            if runs is not None and not runs:
                del _started[pid]
            if noted is None or start_time(pid) != noted:
                raise ProcessLookupError(pid)  # that run ended: its pid may be someone else's now
        os.kill(pid, sig)


def guard() -> None:
    """Patch mutmut's timeout registration (both names it is reached by) and the checker's kill."""
    from mutmut.workers import isolation, timeout

    register = timeout.register_timeout

    def register_timeout(pid: int, timeout_s: float) -> None:
        note(pid)
        register(pid, timeout_s)

    timeout.register_timeout = register_timeout
    isolation.register_timeout = register_timeout
    timeout.os = OsForTheTimeoutChecker()


if __name__ == "__main__":
    guard()
    from mutmut.__main__ import cli

    sys.argv[0] = "mutmut"
    sys.exit(cli())
