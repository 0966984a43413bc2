"""One `xinference-local` process on 127.0.0.1: start, register, launch, auth setup, stop.

Used by run.py (make test-real) and record_fixtures.py (make fixtures). The server runs in its own
session (process group) so that stop() can take every child (supervisor, worker, model processes) down.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests
from env import CACHE, log, offline_env
from processes import group_alive, signal_group
from releases import DEFAULT, RELEASES, Release
from specs import Launch


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerError(RuntimeError):
    pass


class XinferenceServer:
    def __init__(
        self,
        venv_python: Path,
        name: str,
        *,
        auth: bool = False,
        raise_limits: bool = True,
        release: Release | None = None,
    ) -> None:
        self.bin = venv_python.parent / "xinference-local"
        self.release = release or RELEASES[DEFAULT]
        if self.release.version != DEFAULT:
            name = f"{name}-{self.release.version}"
        self.name = name
        self.auth = auth
        self.raise_limits = raise_limits
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # per process: several runs (developers, helpers) may share one cache at the same time
        self.home = CACHE / "run" / f"{name}-{os.getpid()}"
        self.log_path = CACHE / "logs" / f"server-{name}-{os.getpid()}.log"
        self.proc: subprocess.Popen | None = None
        self.http = requests.Session()
        self.http.trust_env = False  # never through a proxy: 127.0.0.1 only
        self.admin_token: str | None = None  # JWT, auth servers only
        self.api_key: str | None = None
        self.timings: dict[str, float] = {}

    # ---- lifecycle ---------------------------------------------------------------------------
    def start(self, timeout: float = 240) -> float:
        _prune(self.log_path.parent, self.home.parent)
        shutil.rmtree(self.home, ignore_errors=True)
        self.home.mkdir(parents=True)
        # a model_uri is symlinked into cache/v2, which the server does not create; and it purges empty
        # folders at start-up, hence the .keep
        (self.home / "cache" / "v2").mkdir(parents=True)
        (self.home / "cache" / "v2" / ".keep").touch()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = offline_env(self.home)
        # the venv's bin/ first, as activating it would: Whisper's decoder runs the `ffmpeg` linked there
        env["PATH"] = os.pathsep.join([str(self.bin.parent), env.get("PATH", "")])
        env["XINFERENCE_AUTH_ADVANCED"] = "1" if self.auth else "0"
        # use the venv's packages: built-ins (Qwen3-VL-Reranker) would otherwise want their own virtualenv
        env["XINFERENCE_ENABLE_VIRTUAL_ENV"] = "0"
        if self.release.version != DEFAULT:
            # 1.x gives its supervisor 10 s + 5 × 5 s to answer at start, too little on a busy 2-core box
            env["XINFERENCE_HEALTH_CHECK_TIMEOUT"] = "120"
            env["XINFERENCE_HEALTH_CHECK_FAILURE_THRESHOLD"] = "24"
        if self.auth and self.raise_limits:
            # the tests count their failed keys (far below 10), but /status polling and a re-run inside
            # 5 minutes must never get 127.0.0.1 banned for an hour
            env["XINFERENCE_RATE_LIMIT_IP_MAX_FAILURES"] = "1000"
            env["XINFERENCE_RATE_LIMIT_KEY_MAX_FAILURES"] = "1000"
        t0 = time.monotonic()
        with open(self.log_path, "wb") as out:
            self.proc = subprocess.Popen(
                [str(self.bin), "--host", "127.0.0.1", "--port", str(self.port)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=self.home,
                start_new_session=True,
            )
        log(f"server '{self.name}' starting on {self.url} (pid {self.proc.pid}, log {self.log_path})")
        while True:
            if self.proc.poll() is not None:
                raise ServerError(f"xinference-local exited with {self.proc.returncode} during start")
            try:
                r = self.http.get(self.url + "/status", timeout=2)
                if r.status_code == 200 or (self.auth and r.status_code == 401):
                    break
            except requests.RequestException:
                pass
            if time.monotonic() - t0 > timeout:
                raise ServerError(f"server did not answer /status within {timeout:.0f} s")
            time.sleep(0.5)
        took = time.monotonic() - t0
        self.timings["start"] = took
        log(f"server '{self.name}' up in {took:.1f} s")
        return took

    def check_version(self, expected: str) -> None:
        """The running server must be the release under test (a stale or mixed-up venv must not pass as
        it). Open servers only: /v1/cluster/version needs the admin scope once auth is on."""
        r = self.http.get(self.url + "/v1/cluster/version", timeout=30)
        r.raise_for_status()
        reported = str(r.json().get("version", ""))
        if reported.split("+", maxsplit=1)[0] != expected:
            raise ServerError(
                f"the server reports Xinference {reported!r}, not the release under test {expected}"
            )
        log(f"server '{self.name}' reports Xinference {reported}")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self) -> None:
        """SIGTERM the server, then make sure nothing of its process group is left."""
        if self.proc is None:
            return
        pgid = self.proc.pid
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                log(f"server '{self.name}' ignored SIGTERM for 20 s; killing it")
        for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            if not group_alive(pgid):
                break
            signal_group(pgid, sig)
            deadline = time.monotonic() + grace
            while group_alive(pgid) and time.monotonic() < deadline:
                time.sleep(0.2)
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        log(f"server '{self.name}' stopped")
        self.proc = None
        shutil.rmtree(self.home, ignore_errors=True)  # the log stays, for post-mortems

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        tail = "\n".join(text.splitlines()[-lines:])
        return self.mask(tail)

    def mask(self, text: str) -> str:
        for secret in (self.api_key, self.admin_token):
            if secret:
                text = text.replace(secret, "***")
        return text

    # ---- REST helpers ------------------------------------------------------------------------
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"} if self.admin_token else {}

    def request(self, method: str, path: str, *, timeout: float = 30, **kw: Any) -> requests.Response:
        r = self.http.request(method, self.url + path, headers=self.headers(), timeout=timeout, **kw)
        if r.status_code >= 400:
            raise ServerError(f"{method} {path} → HTTP {r.status_code}: {self.mask(r.text[:500])}")
        return r

    def register(self, launch: Launch) -> None:
        kind = launch.model_type
        body = {"model": json.dumps(launch.spec), "persist": True}
        self.request("POST", f"/v1/model_registrations/{kind}", json=body)

    def launch(self, launch: Launch) -> float:
        t0 = time.monotonic()
        self.request("POST", "/v1/models", json=launch.body(), timeout=600)
        took = time.monotonic() - t0
        self.timings[f"launch {launch.uid}"] = took
        log(f"launched {launch.uid} ({launch.name}) in {took:.1f} s")
        return took

    def register_and_launch(self, launches: list[Launch], parallel: int = 2) -> float:
        t0 = time.monotonic()
        seen = set()
        for item in launches:
            if not item.builtin and (item.model_type, item.name) not in seen:
                seen.add((item.model_type, item.name))
                self.register(item)
        pool = ThreadPoolExecutor(parallel)
        try:
            list(pool.map(self.launch, launches))  # re-raises the first failure
        finally:
            # on Ctrl-C or a failed launch, do not wait for the others: stop() ends their requests
            pool.shutdown(wait=False, cancel_futures=True)
        took = time.monotonic() - t0
        self.timings["register+launch all"] = took
        return took

    # ---- auth (XINFERENCE_AUTH_ADVANCED=1) ---------------------------------------------------
    def setup_token(self, timeout: float = 30) -> str:
        """The first-run setup token the server prints in its log."""
        deadline = time.monotonic() + timeout
        while True:
            match = re.search(r"Setup token:\s*(\S+)", self.log_path.read_text(errors="replace"))
            if match:
                return match.group(1)
            if time.monotonic() > deadline:
                raise ServerError("no 'Setup token:' in the server log")
            time.sleep(0.5)

    def setup_admin(self) -> None:
        """First-run setup (token from the log) → admin JWT → an API key for the tests."""
        password = secrets.token_urlsafe(18)
        setup = {"username": "admin", "password": password}
        if self.release.setup_token:
            setup["setup_token"] = self.setup_token()
        self.request("POST", "/v1/admin/setup", json=setup)
        r = self.request("POST", "/token", json={"username": "admin", "password": password})
        self.admin_token = r.json()["access_token"]
        r = self.request("POST", "/v1/admin/keys", json={"name": "dify-plugin-tests"})
        self.api_key = r.json()["key"]
        log("auth: admin set up, API key created")


def _prune(logs: Path, homes: Path, days: float = 2) -> None:
    """Drop server logs older than `days`, and homes left behind by runs that were killed hard."""
    cutoff = time.time() - days * 86400
    for old in logs.glob("server-*.log") if logs.exists() else []:
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    for home in homes.glob("*-*") if homes.exists() else []:
        pid = home.name.rsplit("-", 1)[1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists() and home.stat().st_mtime < time.time() - 3600:
            shutil.rmtree(home, ignore_errors=True)
