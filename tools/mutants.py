"""make mutants: mutation testing of models/ with mutmut, against the in-process tier (make test-fast).

Runs in a copy of the tracked files under .cache/mutants/ (mutmut writes its mutants/ tree and needs a
setup.cfg; neither belongs in the repo, and a pyproject.toml would change how the daemon installs the
plugin). Low parallelism by default: the machine is shared. Module by module if asked:

  python -m tools.mutants                                  # all of models/, 1 worker
  python -m tools.mutants --only models/_xinference/credentials.py --jobs 2
  python -m tools.mutants --survivors                      # after adding tests: survivors, timeouts again
  python -m tools.mutants --report-only                    # re-read the results, rewrite the summary

The summary (killed / survived / timed out / other per module, and every survivor's name) goes to
bench/mutants.md; `mutmut show <name>` inside .cache/mutants shows a survivor's diff.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".cache" / "mutants"
SUMMARY = ROOT / "bench" / "mutants.md"
# why a survivor cannot change behaviour, one file per area: lines "- `<mutant name>`: <reason>"
REASONS = ROOT / "bench" / "mutant-survivors"
REASON_LINE = re.compile(r"^- `(models\.[^`]+)`: (.+)$")
NOTES_MARK = "<!-- notes: kept by tools/mutants.py -->"
# mutmut's exit-code meanings (mutmut.stats.status_by_exit_code), folded into what the summary shows
STATUS = {
    1: "killed",
    3: "killed",
    0: "survived",
    36: "timeout",
    -24: "timeout",
    24: "timeout",
    152: "timeout",
}
# test_package.py, test_signing.py and tests/marketplace/ package the repository (this copy has no .git and
# an extra mutants/ tree, so they fail here): they test packaging and publishing, not models/
SETUP_CFG = """[mutmut]
source_paths = models
pytest_add_cli_args =
    -m
    in_process
    -p
    no:cacheprovider
    --ignore=tests/packaging/test_package.py
    --ignore=tests/packaging/test_signing.py
    --ignore=tests/marketplace
pytest_add_cli_args_test_selection =
    tests
also_copy =
{also_copy}
"""


def _copy_tree() -> None:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    names = [name for name in listed.decode().split("\0") if name]
    WORK.mkdir(parents=True, exist_ok=True)
    for name in names:
        source, target = ROOT / name, WORK / name
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    # every other top-level entry of the repository (main.py, run_modes.py, provider/, tools/ ...): the tests
    # import them from the mutants/ tree mutmut runs in
    top = sorted({name.split("/", 1)[0] for name in names} - {"models", "tests"})
    also_copy = "\n".join(f"    {name}" for name in top)
    (WORK / "setup.cfg").write_text(SETUP_CFG.format(also_copy=also_copy), encoding="utf-8")


def _run(names: list[str], jobs: int) -> int:
    # mutmut through tools/mutmut_guarded.py: its timeout signal would otherwise hit whatever process took
    # a finished run's pid (the copy in WORK has tools/ too)
    python = str(ROOT / ".venv" / "bin" / "python")
    command = [python, "-m", "tools.mutmut_guarded", "run", "--max-children", str(jobs), *names]
    return subprocess.run(command, cwd=WORK, check=False).returncode


def _patterns(only: list[str]) -> list[str]:
    # mutmut names mutants models.x.y.xǁClassǁmethod__mutmut_N / models.x.y.x_function__mutmut_N
    return [f"{Path(path).with_suffix('').as_posix().replace('/', '.')}.*" for path in only]


def _survivors() -> list[str]:
    """The last run's survivors, timeouts and other outcomes (a timeout may have been another run's stray
    signal before tools/mutmut_guarded.py; "no tests" may be stale since tests were added)."""
    results = _results().values()
    return [name for counts in results for key in ("_names", "_unsettled") for name in counts.get(key, [])]


def _results() -> dict[str, Counter]:
    per_module: dict[str, Counter] = {}
    for meta in sorted((WORK / "mutants" / "models").rglob("*.py.meta")):
        module = meta.relative_to(WORK / "mutants").as_posix().removesuffix(".meta")
        if not (ROOT / module).is_file():  # a module since moved or folded: its mutants no longer exist
            continue
        codes = json.loads(meta.read_text(encoding="utf-8")).get("exit_code_by_key", {})
        counts = Counter()
        for name, code in codes.items():
            status = "not run" if code is None else STATUS.get(code, "other")
            counts[status] += 1
            if status in ("survived", "timeout", "other"):
                key = "_names" if status == "survived" else "_unsettled"
                counts.setdefault(key, [])  # type: ignore[arg-type]
                counts[key].append(name)  # type: ignore[union-attr]
        if codes:
            per_module[module] = counts
    return per_module


def _write_summary(per_module: dict[str, Counter]) -> None:
    columns = ("killed", "survived", "timeout", "other", "not run")
    lines = [
        "# Mutation testing of models/ (make mutants)",
        "",
        "mutmut against the in-process tier (`pytest -m in_process`, what `make test-fast` runs). Score =",
        "killed / (killed + survived + timeout + other); mutants not run are left out of it and listed.",
        "",
        "| module | " + " | ".join(columns) + " | score |",
        "|---|" + "---:|" * (len(columns) + 1),
    ]
    total = Counter()
    for module, counts in per_module.items():
        total.update({c: counts.get(c, 0) for c in columns})
        lines.append(
            f"| {module} | " + " | ".join(str(counts.get(c, 0)) for c in columns) + f" | {_score(counts)} |"
        )
    lines.append(
        "| **all** | " + " | ".join(f"**{total[c]}**" for c in columns) + f" | **{_score(total)}** |"
    )
    judged = sum(total[c] for c in columns if c != "not run")
    everything = judged + total["not run"]
    share = 100 * judged / max(everything, 1)
    lines += [
        "",
        f"Measured: {judged} of the {everything} mutants of models/ ({share:.0f} %);"
        ' the score covers only those. A module whose mutants are all "not run" was not measured.',
    ]
    lines += _survivor_lines([n for c in per_module.values() for n in c.get("_names", [])])
    notes = ""  # the hand-written part (reasons for survivors, scope) is kept across runs
    if SUMMARY.exists() and NOTES_MARK in SUMMARY.read_text(encoding="utf-8"):
        notes = NOTES_MARK + SUMMARY.read_text(encoding="utf-8").split(NOTES_MARK, 1)[1]
    SUMMARY.write_text("\n".join(lines) + "\n\n" + (notes or NOTES_MARK + "\n"), encoding="utf-8")


def _reasons() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted(REASONS.glob("*.md")) if REASONS.is_dir() else []:
        for line in path.read_text(encoding="utf-8").splitlines():
            if match := REASON_LINE.match(line):
                found[match.group(1)] = f"{match.group(2)} ({path.relative_to(ROOT).as_posix()})"
    return found


def _survivor_lines(survivors: list[str]) -> list[str]:
    reasons = _reasons()
    open_ = [name for name in survivors if name not in reasons]
    explained = [name for name in survivors if name in reasons]
    return [
        "",
        f"## Survivors ({len(survivors)}: {len(explained)} explained, {len(open_)} open)",
        "",
        "### Neither killed nor explained",
        "",
        *[f"- `{name}`" for name in open_],
        "",
        "### Explained: cannot change behaviour (reasons kept in bench/mutant-survivors/)",
        "",
        *[f"- `{name}`: {reasons[name]}" for name in explained],
    ]


def _score(counts: Counter) -> str:
    judged = sum(counts.get(c, 0) for c in ("killed", "survived", "timeout", "other"))
    return f"{100 * counts.get('killed', 0) / judged:.1f} %" if judged else "–"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", action="append", default=[], help="a module path under models/ (repeatable)"
    )
    parser.add_argument("--jobs", type=int, default=1, help="parallel mutant runs (default 1: shared CPU)")
    parser.add_argument("--report-only", action="store_true", help="only rewrite the summary")
    parser.add_argument(
        "--survivors",
        action="store_true",
        help="re-test only the last run's survivors, timeouts and other outcomes",
    )
    args = parser.parse_args(argv)
    code = 0
    if not args.report_only:
        names = _survivors() if args.survivors else _patterns(args.only)
        if args.survivors and not names:
            print("no survivors to re-test")
        else:
            _copy_tree()
            code = _run(names, args.jobs)
    _write_summary(_results())
    print(f"summary: {SUMMARY.relative_to(ROOT)}")
    return code


if __name__ == "__main__":
    sys.exit(main())
