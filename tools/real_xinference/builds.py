"""Running one of the tiny-model build scripts in the Xinference venv: offline, output to a log file, and
a ServerError quoting the log's end when it fails (the one way every model builder reports)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from env import CACHE, log, offline_env
from server import ServerError


def run_build(py: Path, script: Path, args: list[str], *, log_name: str, what: str) -> None:
    """`py script args…`; `what` names the model in the log line and the error ("the tiny CLIP")."""
    started = time.monotonic()
    build_log = CACHE / "logs" / f"{log_name}.log"
    build_log.parent.mkdir(parents=True, exist_ok=True)
    with open(build_log, "wb") as out:
        command = [str(py), str(script), *args]
        rc = subprocess.run(command, env=offline_env(), stdout=out, stderr=subprocess.STDOUT, check=False)
    if rc.returncode:
        raise ServerError(f"building {what} failed; see {build_log}:\n{build_log.read_text()[-2000:]}")
    log(f"built {what} in {time.monotonic() - started:.1f} s")
