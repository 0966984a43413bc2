"""A real Xinference cluster on 127.0.0.1: one `xinference-supervisor` and two `xinference-worker`s.

Used by run_cluster.py (make test-cluster). Each process runs in its own session (process group), so
stopping one worker takes its model processes down with it and nothing is left behind. Replica
placement is pinned with `replica_config` (4.1.0): the supervisor's own choice puts every replica of one
launch on the least-loaded worker as it was *before* the launch, i.e. all on the same worker.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import requests
from env import log, offline_env
from server import ServerError, XinferenceServer, free_port
from specs import Launch

WORKERS = ("a", "b")
# Per-replica request counters on each worker's metrics exporter (model_request_total, labelled
# with model_uid, replica_index and worker_address: xinference/core/model.py _metrics_labels).
_COUNTER = re.compile(r"^xinference:model_request_total\{(?P<labels>[^}]*)\}\s+(?P<value>[0-9.e+]+)$", re.M)
_LABEL = re.compile(r'(\w+)="([^"]*)"')


class ClusterSupervisor(XinferenceServer):
    """The supervisor also serves the REST API the plugin talks to; start/stop/REST as for one server."""

    def __init__(self, venv_python: Path) -> None:
        super().__init__(venv_python, "cluster-supervisor")
        self.bin = venv_python.parent / "xinference-supervisor"


class ClusterWorker(XinferenceServer):
    """One worker: its own home, actor port and metrics exporter, all on 127.0.0.1."""

    def __init__(self, venv_python: Path, name: str, supervisor_url: str) -> None:
        super().__init__(venv_python, f"cluster-worker-{name}")
        self.bin = venv_python.parent / "xinference-worker"
        self.supervisor_url = supervisor_url
        self.worker_port = free_port()
        self.metrics_port = free_port()
        self.address = f"127.0.0.1:{self.worker_port}"  # how the supervisor names this worker

    def start(self, timeout: float = 240) -> float:
        """Spawn the worker; `Cluster.wait_for_workers` decides when it has registered."""
        shutil.rmtree(self.home, ignore_errors=True)
        self.home.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        command = [
            str(self.bin),
            "--endpoint",
            self.supervisor_url,
            "--host",
            "127.0.0.1",
            "--worker-port",
            str(self.worker_port),
            "--metrics-exporter-host",
            "127.0.0.1",
            "--metrics-exporter-port",
            str(self.metrics_port),
        ]
        self.proc = _spawn(command, self.log_path, self.home)
        log(f"worker '{self.name}' {self.address} starting (pid {self.proc.pid}, log {self.log_path})")
        return 0.0

    def request_counts(self) -> dict[tuple[str, str], float]:
        """(model uid, replica index) → requests this worker's replicas have served so far."""
        text = self.http.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=10).text
        counts: dict[tuple[str, str], float] = {}
        for match in _COUNTER.finditer(text):
            labels = dict(_LABEL.findall(match.group("labels")))
            key = (labels.get("model_uid", "?"), labels.get("replica_index", "?"))
            counts[key] = counts.get(key, 0.0) + float(match.group("value"))
        return counts


def _spawn(command: list[str], log_path: Path, home: Path) -> subprocess.Popen:
    env = offline_env(home)
    env["XINFERENCE_AUTH_ADVANCED"] = "0"  # as the supervisor: the cluster runs with auth off
    # Three model processes on a shared 2-core machine: torch's one-thread-per-core default makes them
    # fight over the cores (a 15-token answer then takes seconds); the tiny models need one thread each.
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    # a model process that takes over 60 s to start (the default) on a loaded machine fails the launch
    env["XINFERENCE_SUBPOOL_LAUNCH_TIMEOUT"] = "300"
    with open(log_path, "wb") as out:
        return subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=home,
            start_new_session=True,
        )


class Cluster:
    """Supervisor + two workers; `stop()` is safe to call at any point, also twice."""

    def __init__(self, venv_python: Path) -> None:
        self.supervisor = ClusterSupervisor(venv_python)
        self.workers = {n: ClusterWorker(venv_python, n, self.supervisor.url) for n in WORKERS}
        self.timings: dict[str, float] = {}

    @property
    def url(self) -> str:
        return self.supervisor.url

    def start(self, timeout: float = 240) -> None:
        self.timings["supervisor start"] = self.supervisor.start(timeout)
        self.supervisor.check_version(self.supervisor.release.version)
        t0 = time.monotonic()
        for worker in self.workers.values():
            worker.start()
        self.wait_for_workers(len(self.workers), timeout)
        self.timings["workers registered"] = time.monotonic() - t0

    def worker_addresses(self) -> list[str]:
        return sorted(w["work-ip"] for w in self.workers_info())

    def workers_info(self) -> list[dict[str, Any]]:
        """[{"work-ip": "127.0.0.1:port", "models": {replica uid: description}}] (xinference 4.1.0)."""
        return self.supervisor.request("GET", "/v1/workers").json()

    def wait_for_workers(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            for worker in self.workers.values():
                if worker.proc is not None and worker.proc.poll() is not None:
                    raise ServerError(f"worker '{worker.name}' exited with {worker.proc.returncode}")
            try:
                if len(self.worker_addresses()) >= count:
                    return
            except (ServerError, requests.RequestException, ValueError):
                pass
            if time.monotonic() > deadline:
                raise ServerError(f"{count} workers did not register within {timeout:.0f} s")
            time.sleep(1)

    def launch_pinned(self, launch: Launch, workers: list[str]) -> float:
        """Launch `launch` with one replica on each named worker (in that order)."""
        placement = [{"devices": [{"worker_ip": self.workers[n].address}]} for n in workers]
        pinned = Launch(
            launch.uid,
            launch.model_type,
            launch.spec,
            {**launch.options, "replica": len(workers), "replica_config": placement},
        )
        took = self.supervisor.launch(pinned)
        self.timings[f"launch {launch.uid} on {'+'.join(workers)}"] = took
        return took

    def replicas(self, uid: str) -> list[dict[str, Any]]:
        return self.supervisor.request("GET", f"/v1/models/{uid}/replicas").json()

    def request_counts(self) -> dict[str, dict[str, float]]:
        """worker name → {"<uid> replica <i>": requests served}; a stopped worker is left out."""
        out: dict[str, dict[str, float]] = {}
        for name, worker in self.workers.items():
            if worker.proc is None:
                continue
            counts = worker.request_counts()
            out[name] = {f"{uid} replica {idx}": v for (uid, idx), v in sorted(counts.items())}
        return out

    def log_tails(self, lines: int = 40) -> str:
        parts = [f"--- {p.name} ({p.log_path})\n{p.log_tail(lines)}" for p in self.processes()]
        return "\n".join(parts)

    def processes(self) -> list[XinferenceServer]:
        return [*self.workers.values(), self.supervisor]

    def stop(self) -> None:
        """Workers first (their model processes with them), then the supervisor; every one is tried."""
        errors = []
        for proc in self.processes():
            try:
                proc.stop()
            except Exception as exc:  # keep stopping the others
                errors.append(f"{proc.name}: {exc!r}")
        if errors:
            raise ServerError("stopping the cluster: " + "; ".join(errors))
