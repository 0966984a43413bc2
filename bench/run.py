"""`python -m bench`: run every measurement, print the table, write bench/results.json.

--quick          fewer repetitions (well under a minute of measuring); the same budgets
--check          exit 1 when a budget is missed or a measurement failed
--from-results   check bench/results.json instead of measuring again
--real URL       measure against a real Xinference on 127.0.0.1 (model UIDs: --llm-uid, --embed-uid)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

from bench import embed, floor, llm, process, tokens, uptime
from bench.common import AdapterCounter, Result, Target
from bench.report import REPO, check, json_safe, machine, table

RESULTS = Path(__file__).resolve().parent / "results.json"

# repetitions: (full, quick)
REPS = {
    "requests": (10, 3),
    "chat": (300, 40),
    "ttfc": (300, 40),
    "cpu_chunks": (2000, 500),
    "cpu": (7, 3),
    "embed": (3, 1),
    "tokens": (30, 5),
    "startup": (5, 2),
}


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Benchmarks with budgets.")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--check", action="store_true", help="exit 1 when a budget is missed")
    parser.add_argument(
        "--from-results", action="store_true", help="check bench/results.json, measure nothing"
    )
    parser.add_argument(
        "--real",
        metavar="URL",
        nargs="?",
        const="env",
        help="a real Xinference on 127.0.0.1; without URL, XINFERENCE_REAL_URL/_UIDS as printed by "
        "`tools/real_xinference/run.py --serve`",
    )
    parser.add_argument("--llm-uid", default=None, help="default: test-llm (replay), the env's llm (real)")
    parser.add_argument("--embed-uid", default=None, help="default: test-embed")
    parser.add_argument(
        "--api-key", default=None, help="API key for a real server with auth on (default: none)"
    )
    parser.add_argument(
        "--only", nargs="*", default=None, help="run only these groups: llm embed tokens process floor uptime"
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    uids = {}
    if args.real == "env":
        args.real = os.environ.get("XINFERENCE_REAL_URL") or parser.error(
            "--real without URL needs XINFERENCE_REAL_URL (start one: tools/real_xinference/run.py --serve)"
        )
        uids = json.loads(os.environ.get("XINFERENCE_REAL_UIDS") or "{}")
    args.llm_uid = args.llm_uid or uids.get("llm", "test-llm")
    args.embed_uid = args.embed_uid or uids.get("embed", "test-embed")
    return args


@contextlib.contextmanager
def _replay_server(frame_delay: float = 0.0) -> Iterator:
    from tools.replay.server import ReplayServer

    with ReplayServer(frame_delay=frame_delay) as server:
        # uvicorn (asyncio) sets TCP_NODELAY; http.server does not, and then every reply whose headers
        # and body go out in two writes waits ~40 ms for a delayed ACK, which would drown what we measure.
        server._httpd.RequestHandlerClass.disable_nagle_algorithm = True
        yield server


@contextlib.contextmanager
def _target(args: argparse.Namespace) -> Iterator[Target]:
    if args.real:
        host = urlsplit(args.real).hostname
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise SystemExit(f"--real must point at this machine (127.0.0.1), not {host!r}")
        with AdapterCounter() as counter:
            yield Target(
                args.real.rstrip("/"),
                args.llm_uid,
                args.embed_uid,
                lambda: counter.count,
                lambda: counter.last_post,
                kind="real",
                api_key=args.api_key,
            )
        return
    with _replay_server() as server:

        def last_post() -> tuple[str, bytes]:
            _method, path, _headers, body = next(r for r in reversed(server.requests) if r[0] == "POST")
            return path, body

        yield Target(server.url, args.llm_uid, args.embed_uid, lambda: len(server.requests), last_post)


@contextlib.contextmanager
def _stdio_target(args: argparse.Namespace, target: Target) -> Iterator[Target]:
    """The 50 streams need sessions that overlap: a replay server that spaces frames 20 ms apart."""
    if target.kind == "real":
        yield target
        return
    with _replay_server(frame_delay=0.02) as server:
        yield Target(
            server.url, target.llm_uid, target.embed_uid, lambda: len(server.requests), target.last_post
        )


def _failed(keys: list[str], exc: BaseException) -> list[Result]:
    why = f"{type(exc).__name__}: {exc}"[:300]
    tb = traceback.format_exc(limit=-3)
    return [Result(key, math.nan, f"FAILED: {why}", "", {"error": why, "traceback": tb}) for key in keys]


def _measure(keys: list[str], fn: Callable[[], Result | list[Result]]) -> list[Result]:
    started = time.perf_counter()
    try:
        out = fn()
    except Exception as exc:
        return _failed(keys, exc)
    results = out if isinstance(out, list) else [out]
    for r in results:
        r.details.setdefault("measure_s", round(time.perf_counter() - started, 2))
    return results


def measure(args: argparse.Namespace) -> list[Result]:
    pick = 1 if args.quick else 0
    n = {k: v[pick] for k, v in REPS.items()}
    groups = set(args.only or ["llm", "embed", "tokens", "process", "floor", "uptime"])
    results: list[Result] = []
    with _target(args) as target:
        if "llm" in groups:
            results += _measure(
                ["llm_requests_first", "llm_requests_steady"],
                lambda: llm.requests_per_call(target, n["requests"]),
            )
            results += _measure(["chat_time_ratio"], lambda: llm.non_stream_ratio(target, n["chat"]))
            results += _measure(["stream_ttfc_added"], lambda: llm.time_to_first_chunk(target, n["ttfc"]))
            results += _measure(
                ["stream_cpu_per_chunk"], lambda: llm.cpu_per_chunk(n["cpu_chunks"], n["cpu"])
            )
        if "embed" in groups:
            results += _measure(
                ["embed_request_ratio", "embed_time_ratio"], lambda: embed.embed_batching(target, n["embed"])
            )
        if "tokens" in groups:
            results += _measure(
                ["num_tokens_100k", "num_tokens_requests"], lambda: tokens.num_tokens(target, n["tokens"])
            )
        if "process" in groups:
            results += _measure(["startup_heartbeat"], lambda: process.startup(n["startup"]))
            with _stdio_target(args, target) as stdio:
                results += _measure(["rss_idle", "rss_50_streams"], lambda: process.memory(stdio, 50))
    if "floor" in groups and not args.real:  # the floor answers constants: a synthetic server only
        keys = [f"{view}_{name}_added" for view in floor.VIEWS for name in floor.FIGURES]
        results += _measure(keys, lambda: floor.measure(args.quick))
    if "uptime" in groups and not args.real:  # errors of every kind need the replay server
        results += _measure(sorted(uptime.KEYS), lambda: uptime.measure(args.quick))
    return results


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    if args.from_results:
        if not args.out.exists():
            print(f"no {args.out}: run `make bench` first", file=sys.stderr)
            return 2
        data = json.loads(args.out.read_text())
        rows = data["results"]
        print(table([r for r in rows if r["key"] not in floor.KEYS]))
        print(floor.table([r for r in rows if r["key"] in floor.KEYS]))
        return check(
            rows, floor.KEYS | uptime.KEYS if data["machine"]["target"].startswith("real") else frozenset()
        )
    load_before = os.getloadavg()
    results = measure(args)
    rows = [json_safe(r.as_json()) for r in results]
    info = machine(args, load_before)
    args.out.write_text(json.dumps({"machine": info, "results": rows}, indent=2, ensure_ascii=False) + "\n")
    print(table([r for r in rows if r["key"] not in floor.KEYS]))
    if floor_rows := [r for r in rows if r["key"] in floor.KEYS]:
        print(
            "\nPlugin-added = ours − floor − plain HTTP; CPU ms (wall ms in brackets):\n"
            + floor.table(floor_rows)
        )
    print(
        f"\n{info['target']}; {info['cpus']} CPUs ({info['cpu']}), load {info['loadavg_before']} -> "
        f"{info['loadavg_after']}; commit {info['commit']}{' (dirty)' if info['dirty'] else ''}; "
        f"written to {args.out.relative_to(REPO) if args.out.is_relative_to(REPO) else args.out}"
    )
    if args.only is not None:
        return 0 if not args.check else int(any(r["pass"] is False for r in rows))
    return check(rows, floor.KEYS | uptime.KEYS if args.real else frozenset()) if args.check else 0
