"""Plugin-added cost = ours − floor − plain HTTP, through the real plugin process and in process.

The floor (bench/floor_plugin) is the same SDK runtime with model classes that return constants: its
cost no plugin can go below. Plain HTTP is the same exchange with plain `requests`. Each repetition
runs the three sides in turn (the order rotates) and a figure is the median over repetitions of
(ours − floor − plain) within the repetition, so drift from other processes falls on all three alike.

Two clocks: wall time, and CPU time (the plugin process's, or this thread's for plain HTTP and in
process). Nothing in the plugin waits (the server answers at once), so its added wall time is its
added CPU time plus scheduling noise; the budget is checked on CPU, which a shared machine's load
disturbs least, and the wall figure is reported beside it.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Callable, Iterator

from bench import floor_sides as sides
from bench.common import Result
from bench.floor_inproc import InProcess
from bench.llm import synth_server

# figure: (side method, args, repetitions full/quick, scale, unit, as a share of plain HTTP)
FIGURES: dict[str, tuple[str, tuple, tuple[int, int], float, str, bool]] = {
    "chat": ("chat", (), (300, 60), 1e3, "ms", False),
    "ttfc": ("first_chunk", (), (300, 60), 1e3, "ms", False),
    "cpu_chunk": ("stream_cpu", (), (7, 3), 1e6, "us", False),
    "embed384": ("embed", (384, sides.texts()), (7, 3), 1e3, "ms", False),
    "embed4096": ("embed", (4096, sides.texts()), (3, 1), 100, "%", True),
    "embed4096f": ("embed", (4096, sides.texts(), True), (3, 1), 100, "%", True),
    "rerank256": ("rerank", (sides.texts(sides.RERANK_DOCS),), (60, 15), 1e3, "ms", False),
}
LABELS = {
    "chat": "blocking chat",
    "ttfc": "time to first streamed chunk",
    "cpu_chunk": "CPU per streamed chunk",
    "embed384": "1,000 embeddings, 384 dims (32 per call)",
    "embed4096": "1,000 embeddings, 4,096 dims (32 per call)",
    "embed4096f": "the same from a server sending floats (≤ 3.2)",
    "rerank256": "rerank of 256 documents",
}
VIEWS = {"process": "plugin process", "inproc": "in process"}
SIDES = ("ours", "floor", "plain")
KEYS = frozenset(f"{view}_{name}_added" for view in VIEWS for name in FIGURES)


def paired(reps: int, ours: Callable, floor: Callable, plain: Callable) -> list[dict[str, tuple]]:
    """Per repetition {side: (wall, cpu)}, the order rotating; one warm-up round first."""
    for side in (ours, floor, plain):
        side()
    runs = []
    for i in range(reps):
        order = list(zip(SIDES, (ours, floor, plain), strict=True))
        runs.append({name: side() for name, side in order[i % 3 :] + order[: i % 3]})
    return runs


def _added(runs: list[dict[str, tuple]], clock: int, relative: bool) -> list[float]:
    out = []
    for run in runs:
        added = run["ours"][clock] - run["floor"][clock] - run["plain"][clock]
        out.append(added / run["plain"][clock] if relative else added)
    return out


def figure(view: str, name: str, three: tuple, quick: bool) -> Result:
    """`three`: the (ours, floor, plain) sides."""
    method, args, reps, scale, unit, relative = FIGURES[name]
    runs = paired(reps[quick], *(lambda s=s: getattr(s, method)(*args) for s in three))
    wall, cpu = (_added(runs, clock, relative) for clock in (0, 1))
    shown, side_unit = (1e3, "ms") if relative else (scale, unit)
    med = {
        f"{s}_{c}": statistics.median(r[s][i] for r in runs) * shown
        for s in SIDES
        for i, c in enumerate(("wall", "cpu"))
    }
    quart = statistics.quantiles(cpu, n=4) if len(cpu) > 1 else cpu * 3
    details = {
        **med,
        "side_unit": side_unit,
        "added_wall": statistics.median(wall) * scale,
        "added_cpu": statistics.median(cpu) * scale,
        "added_cpu_quartiles": [quart[0] * scale, quart[2] * scale],
        "reps": len(runs),
        "view": view,
    }
    return Result(
        f"{view}_{name}_added",
        round(details["added_cpu"], 3),
        f"CPU ours {med['ours_cpu']:.3g}, floor {med['floor_cpu']:.3g} {side_unit}",
        f"CPU {med['plain_cpu']:.3g} {side_unit}",
        details,
    )


@contextlib.contextmanager
def _views(url: str) -> Iterator[dict[str, tuple]]:
    with (
        sides.ThroughProcess(sides.REPO, url, floor=False) as ours,
        sides.ThroughProcess(sides.FLOOR_ROOT, url, floor=True) as floor,
    ):
        yield {
            "process": (ours, floor),
            "inproc": (InProcess(url, floor=False), InProcess(url, floor=True)),
        }


def measure(quick: bool, only: list[str] | None = None) -> list[Result]:
    results: list[Result] = []
    with synth_server(sides.CPU_CHUNKS) as url, _views(url) as views:
        plain = sides.Plain(url)
        for view, (ours, floor) in views.items():
            for name in only or FIGURES:
                started = time.perf_counter()
                result = figure(view, name, (ours, floor, plain), quick)
                result.details["measure_s"] = round(time.perf_counter() - started, 2)
                results.append(result)
    return results


def table(rows: list[dict]) -> str:
    """One line per figure and view: the three sides (CPU, wall), plugin-added (CPU, wall), budget."""
    head = "| measure | view | plain HTTP | floor | ours | plugin-added CPU (wall) | budget | result |"
    lines = [head, "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        d = r["details"]
        if "view" not in d:  # a failed measurement: no sides to show
            lines.append(f"| {r['label']} | | | | | {d.get('error', 'failed')} | | **MISS** |")
            continue
        name = r["key"].removeprefix(d["view"] + "_").removesuffix("_added")
        u = d["side_unit"]
        cells = [f"{d[s + '_cpu']:.3g} ({d[s + '_wall']:.3g}) {u}" for s in ("plain", "floor", "ours")]
        added = f"{d['added_cpu']:.3g} ({d['added_wall']:.3g}) {r['unit']}"
        budget = "report" if r["budget"] is None else f"{r['op']} {r['budget']:g} {r['unit']}"
        verdict = {True: "pass", False: "**MISS**", None: "—"}[r["pass"]]
        lines.append(
            f"| {LABELS[name]} | {VIEWS[d['view']]} | {' | '.join(cells)} | {added} | {budget} | {verdict} |"
        )
    return "\n".join(lines)
