"""Finding and signalling everything a server started, however it was re-parented.

A server's process group holds its model processes; 1.x/2.x also leave a worker pool behind, re-parented
to init when the server exits, which keeps the server's session id. Both are looked up in /proc.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from types import FrameType


def signal_group(pgid: int, sig: int) -> None:
    """Signal the process group and every process left in the server's session: 1.x/2.x leave their
    worker pool (and its model processes) running, re-parented to init, when the server exits."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)
    for pid in members(pgid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def group_alive(pgid: int) -> bool:
    if not Path("/proc/self/stat").exists():  # no /proc: the process group is all we can see
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    return bool(members(pgid))


def members(session: int) -> list[int]:
    """Live (non-zombie) processes whose process group or session is the server's."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and session in (int(fields[2]), int(fields[3])):
            found.append(int(proc.name))
    return found


def sigterm_as_interrupt(_signo: int, _frame: FrameType | None) -> None:
    """A SIGTERM handler: end like Ctrl-C, in the `finally` that stops every server started."""
    raise KeyboardInterrupt("SIGTERM")
