"""`make test-cluster`: the plugin against a real two-worker Xinference 4.1.0 cluster on 127.0.0.1.

  1. the cached Xinference venv (env.py; installed by `make test-real` if missing) and the local models;
  2. `xinference-supervisor` + workers `a` and `b` (cluster.py), each in its own process group;
  3. the tiny tools LLM with two replicas, replica 0 pinned to worker a and replica 1 to worker b, and
     the embedding model on worker a only;
  4. `pytest -m real tests/cluster` through one plugin process (50 mixed sessions, then worker b is
     killed in the middle of a run); the tests write their numbers to cluster-report.json in the cache;
  and always stop every process (on failure, Ctrl-C or SIGTERM too). Offline throughout.

usage: .venv/bin/python tools/real_xinference/run_cluster.py [--serve] [-- pytest args]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cluster import Cluster
from env import CACHE, REPO, ensure_venv, log, venv_dir, venv_python
from local_models import ASSETS, minilm_path
from processes import sigterm_as_interrupt
from run import run_pytest
from server import ServerError
from specs import Launch, chat_spec, embedding_spec

TESTS = REPO / "tests" / "cluster"
REPORT = CACHE / "cluster-report.json"
LLM_UID = "cluster-tools-llm"
EMBED_UID = "cluster-embed"


def venv() -> tuple[Path, float]:
    """A warm venv needs no lock: another run may hold it for minutes while it installs something else."""
    if (venv_dir() / ".installed").exists():
        return venv_python(), 0.0
    return ensure_venv()


def cluster_models(py: Path) -> dict[str, Launch]:
    minilm = minilm_path(py)
    tools = ASSETS / "tiny-qwen2-tools"
    return {
        "llm": Launch(
            LLM_UID, "LLM", chat_spec("test-tiny-qwen2-tools", tools, "tiny Qwen2: fixed answer, tools")
        ),
        "embed": Launch(EMBED_UID, "embedding", embedding_spec(minilm)),
    }


def deploy(cluster: Cluster, models: dict[str, Launch]) -> None:
    for launch in models.values():
        cluster.supervisor.register(launch)
    with ThreadPoolExecutor(2) as pool:
        llm = pool.submit(cluster.launch_pinned, models["llm"], ["a", "b"])
        embed = pool.submit(cluster.launch_pinned, models["embed"], ["a"])
        llm.result(), embed.result()


def test_env(cluster: Cluster) -> dict[str, str]:
    workers = {
        name: {"address": w.address, "pgid": w.pid, "metrics_port": w.metrics_port}
        for name, w in cluster.workers.items()
    }
    return {
        "XINFERENCE_CLUSTER_URL": cluster.url,
        "XINFERENCE_CLUSTER_WORKERS": json.dumps(workers),
        "XINFERENCE_CLUSTER_UIDS": json.dumps({"llm": LLM_UID, "embed": EMBED_UID}),
        "XINFERENCE_CLUSTER_REPORT": str(REPORT),
    }


def run(ns: argparse.Namespace, timings: dict[str, float]) -> int:
    py, timings["install (0 = cached)"] = venv()
    models = cluster_models(py)
    cluster = Cluster(py)
    try:
        t0 = time.monotonic()
        cluster.start()
        timings.update({f"cluster: {k}": v for k, v in cluster.timings.items()})
        t1 = time.monotonic()
        deploy(cluster, models)
        timings["cluster: register + launch (LLM x2, embedding)"] = time.monotonic() - t1
        timings["cluster: up, models ready"] = time.monotonic() - t0
        log(f"placement: {json.dumps(placement(cluster))}")
        env = test_env(cluster)
        if ns.serve:
            print("\n".join(f"export {k}='{v}'" for k, v in env.items()), flush=True)
            log(
                "serving; run `.venv/bin/python -m pytest -m real tests/cluster` with the exports above; "
                "Ctrl-C stops"
            )
            while cluster.supervisor.proc and cluster.supervisor.proc.poll() is None:
                time.sleep(1)
            return 0
        REPORT.unlink(missing_ok=True)
        t2 = time.monotonic()
        rc = run_pytest([str(TESTS.relative_to(REPO))], env, ns.pytest_args, [])
        timings["cluster: tests"] = time.monotonic() - t2
        if rc not in (0, 5):
            print(cluster.log_tails(), flush=True)
        return rc
    except BaseException:
        print(cluster.log_tails(), flush=True)
        raise
    finally:
        # a second Ctrl-C/SIGTERM must not cut the cleanup short and leave workers behind
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        cluster.stop()


def placement(cluster: Cluster) -> dict[str, list[str]]:
    """worker name → replica uids it runs (from the supervisor's view)."""
    by_address = {w["work-ip"]: sorted(w.get("models") or {}) for w in cluster.workers_info()}
    return {name: by_address.get(w.address, []) for name, w in cluster.workers.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve", action="store_true", help="start the cluster, print its env, wait")
    parser.add_argument("pytest_args", nargs="*", help="passed to pytest (after --)")
    ns = parser.parse_args()
    signal.signal(signal.SIGTERM, sigterm_as_interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    timings: dict[str, float] = {}
    t0 = time.monotonic()
    try:
        rc = run(ns, timings)
    except KeyboardInterrupt:
        log("interrupted; cluster stopped")
        return 130
    except (ServerError, subprocess.CalledProcessError) as exc:
        log(f"FAILED: {exc}")
        return 1
    timings["total"] = time.monotonic() - t0
    print("\n== cluster timings (s)")
    for k, v in timings.items():
        print(f"  {k:<52} {v:7.1f}")
    if REPORT.exists():
        print("\n== cluster report (" + str(REPORT) + ")\n" + REPORT.read_text(), flush=True)
    if ns.pytest_args and rc == 5 and os.environ.get("REQUIRE_TESTS") != "1":
        rc = 0
    if rc == 5:
        log("FAILED: no cluster test was collected")
    return rc


if __name__ == "__main__":
    sys.exit(main())
