"""What `python -m bench` writes and prints: the machine it ran on, the results table, the
JSON-safe rows of bench/results.json and the budget check (which exits 1 on a miss)."""

from __future__ import annotations

import argparse
import contextlib
import datetime
import math
import os
import platform
import subprocess
import sys
from pathlib import Path

from bench.budgets import BUDGETS

REPO = Path(__file__).resolve().parent.parent


def machine(args: argparse.Namespace, load_before: tuple[float, ...]) -> dict:
    def git(*cmd: str) -> str:
        try:
            return subprocess.run(
                ["git", *cmd], check=False, cwd=REPO, capture_output=True, text=True, timeout=10
            ).stdout.strip()
        except OSError:
            return ""

    cpu = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as fh:
        cpu = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), "")
    return {
        "when": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "commit": git("rev-parse", "--short", "HEAD"),
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "target": "real server " + args.real if args.real else "replay server (recordings, instant)",
        "quick": args.quick,
    }


def _fmt(value: float, unit: str) -> str:
    if value is None or (isinstance(value, float) and (math.isnan(value) or math.isinf(value))):
        return "—"
    if unit == "x" and value < 1:
        return f"{value:.4f}" if value < 0.1 else f"{value:.3f}"
    return f"{value:g}"


def table(rows: list[dict]) -> str:
    head = ["Measure", "Value", "Budget", "Plugin", "Plain requests", "Result"]
    body = []
    for r in rows:
        verdict = {True: "pass", False: "**MISS**", None: "—"}[r["pass"]]
        budget = BUDGETS[r["key"]].describe()
        body.append(
            [
                r["label"],
                f"{_fmt(r['value'], r['unit'])} {r['unit']}".strip(),
                budget,
                r["plugin"],
                r["raw"],
                verdict,
            ]
        )
    widths = [max(len(row[i]) for row in [head, *body]) for i in range(len(head))]
    line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"  # noqa: E731
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(head), sep, *(line(row) for row in body)])


def json_safe(value):
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    return value


def check(rows: list[dict], not_run: frozenset[str] = frozenset()) -> int:
    missed = [r for r in rows if r["pass"] is False]
    for r in missed:
        print(
            f"budget missed: {r['label']}: {_fmt(r['value'], r['unit'])} {r['unit']} "
            f"(budget {BUDGETS[r['key']].describe()}) {r['details'].get('error', '')}",
            file=sys.stderr,
        )
    absent = [
        key
        for key, b in BUDGETS.items()
        if b.limit is not None and key not in {r["key"] for r in rows} and key not in not_run
    ]
    for key in absent:
        print(f"budget not measured: {BUDGETS[key].label}", file=sys.stderr)
    ok = not missed and not absent
    print(
        "bench-check: all budgets hold"
        if ok
        else f"bench-check: {len(missed) + len(absent)} budget(s) missed"
    )
    return 0 if ok else 1
