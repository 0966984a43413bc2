"""Extra packages installed into the real-server venv as a separately stamped layer: the base venv's
cache key and packages stay as they are (`requirements.txt` is a constraint), and a changed layer
recipe installs again. Used by the audio and llama.cpp layers."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from env import CACHE, CONSTRAINTS, REQUIREMENTS, cache_lock, log


def ensure_layer(
    py: Path,
    name: str,
    requirements: Path,
    recipe_version: str,
    *,
    what: str,
    after: Callable[[Path], None] | None = None,
) -> float:
    """pip-install `requirements` into the venv of `py` once; seconds spent (0.0 when already there).
    `after(py)` runs once the packages are in, before the stamp is written."""
    venv = py.parent.parent
    key = hashlib.sha256(b"\0".join([recipe_version.encode(), requirements.read_bytes()])).hexdigest()[:12]
    stamp = venv / f".{name}-installed-{key}"
    with cache_lock():
        if stamp.exists():
            log(f"{name} packages cached")
            return 0.0
        t0 = time.monotonic()
        install_log = CACHE / "logs" / f"install-{name}.log"
        install_log.parent.mkdir(parents=True, exist_ok=True)
        log(f"installing the {name} packages ({what}); log {install_log}")
        pip = [str(py), "-m", "pip", "--disable-pip-version-check", "install", "-c", str(CONSTRAINTS)]
        pip += ["-c", str(REQUIREMENTS), "-r", str(requirements)]
        with open(install_log, "w") as out:
            rc = subprocess.run(pip, stdout=out, stderr=subprocess.STDOUT, check=False).returncode
        if rc:
            tail = "\n".join(install_log.read_text(errors="replace").splitlines()[-30:])
            sys.exit(f"pip install of the {name} packages failed ({rc}):\n{tail}")
        if after is not None:
            after(py)
        for old in venv.glob(f".{name}-installed-*"):
            old.unlink()
        stamp.write_text(time.strftime("%Y-%m-%d %H:%M:%S"))
        took = time.monotonic() - t0
        log(f"{name} packages installed in {took:.0f} s")
        return took
