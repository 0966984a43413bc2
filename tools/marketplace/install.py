"""Installing the dependencies and starting the plugin the way the pre-check workflow does.

The workflow makes a fresh venv, runs `python -m pip install -r requirements.txt`, then starts
`python -m main` with INSTALL_METHOD=serverless and expects an HTTP answer (200 or 404) on the
serverless port within 20 seconds. The normal package reads the package index here (the one place
this check uses the network); an offline package installs from its own wheels, and one built for
another CPU can only be resolved for its platform, not started.
"""

from __future__ import annotations

import http.client
import os
import platform
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tools.marketplace.findings import ERROR, Finding, Package
from tools.wheels import resolution_problems

ROOT = Path(__file__).resolve().parents[2]
INSTALL_TIMEOUT = 900
START_DEADLINE = 20.0  # seconds, the workflow's window
HOST_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
    platform.machine()
)


def package_arch(pkg: Package) -> str | None:
    """The CPU an offline package's wheels are built for (None: any, e.g. the normal package)."""
    wheels = " ".join(name for name in pkg.names if name.startswith("wheels/"))
    return "arm64" if "aarch64" in wheels else "amd64" if "x86_64" in wheels else None


def _python312() -> str:
    script = str(ROOT / "scripts" / "find-python312.sh")
    found = subprocess.run([script], capture_output=True, text=True, timeout=60, check=False)
    if found.returncode != 0:
        raise RuntimeError(f"no Python 3.12 found: {found.stderr.strip()}")
    return found.stdout.strip()


def install(pkg: Package, workdir: Path, pip_args: tuple[str, ...] = ()) -> tuple[Path | None, list[Finding]]:
    """A fresh venv with the package's requirements; (its python, findings)."""
    arch = package_arch(pkg)
    if arch and arch != HOST_ARCH:
        problems = resolution_problems(pkg.root, arch)
        return None, [Finding("install", ERROR, p) for p in problems]
    venv = workdir / "venv"
    subprocess.run([_python312(), "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    command = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *pip_args]
    done = subprocess.run(
        [*command, "-r", "requirements.txt"],
        cwd=pkg.root,
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).strip()[-1500:]
        return None, [Finding("install", ERROR, f"pip install -r requirements.txt failed: {tail}")]
    return python, []


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answer(port: int) -> int | None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/")
        return connection.getresponse().status
    except OSError:
        return None
    finally:
        connection.close()


def serverless_start(pkg: Package, python: Path) -> list[Finding]:
    """Start `python -m main` in serverless mode; an HTTP 200/404 within 20 s passes."""
    port = _free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": tempfile.gettempdir(),
        "INSTALL_METHOD": "serverless",
        "SERVERLESS_HOST": "127.0.0.1",
        "SERVERLESS_PORT": str(port),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    with tempfile.TemporaryFile() as output:
        proc = subprocess.Popen(
            [str(python), "-m", "main"], cwd=pkg.root, env=env, stdout=output, stderr=output
        )
        try:
            began, status = time.monotonic(), None
            while status is None and time.monotonic() - began < START_DEADLINE and proc.poll() is None:
                time.sleep(0.2)
                status = _answer(port)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        output.seek(0)
        log = output.read().decode("utf-8", errors="replace")[-1500:]
    if status in (200, 404):
        return []
    why = (
        f"HTTP {status}"
        if status
        else f"no HTTP answer within {START_DEADLINE:.0f} s (exit code {proc.returncode})"
    )
    return [Finding("serverless-start", ERROR, f"python -m main (INSTALL_METHOD=serverless): {why}\n{log}")]
