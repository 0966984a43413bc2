"""Try recorded survivors against the tests of this working tree, quickly, without a whole mutmut run.

`make mutants` needs a full stats pass (minutes) before it tests a mutant. While writing tests to kill
survivors, this applies each survivor's change (from the results of an earlier `make mutants`, default
this repository's .cache/mutants) to the working tree's source, runs only the tests named, and puts the
source back. The authoritative figures still come from `make mutants` (its `--survivors` re-run).

  python -m tools.mutant_try models/llm/tool_results.py --tests tests/llm/test_tool_results.py
  python -m tools.mutant_try models/llm/tool_results.py --tests tests/llm --results /work/main/.cache/mutants

Prints one line per survivor (killed / SURVIVED / could not apply) and a count.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTMUT = ROOT / ".venv" / "bin" / "mutmut"
PYTEST = [sys.executable, "-m", "pytest", "-x", "-q", "-m", "in_process", "-p", "no:cacheprovider"]


def survivors(results: Path, module: str) -> list[str]:
    meta = results / "mutants" / f"{module}.meta"
    codes = json.loads(meta.read_text(encoding="utf-8")).get("exit_code_by_key", {})
    return sorted(name for name, code in codes.items() if code == 0)


def mutant_change(results: Path, name: str) -> tuple[str, str]:
    """The function-relative hunk of `mutmut show` as (old text, new text)."""
    shown = subprocess.run(
        [str(MUTMUT), "show", name], cwd=results, capture_output=True, text=True, check=True
    )
    old, new = [], []
    in_hunk = False
    for line in shown.stdout.splitlines():
        if line.startswith("@@"):
            in_hunk = True
        elif in_hunk and line[:1] in (" ", "-"):
            old.append(line[1:])
            if line[0] == " ":
                new.append(line[1:])
        elif in_hunk and line[:1] == "+":
            new.append(line[1:])
    return "\n".join(old), "\n".join(new)


def placed(original: str, change: tuple[str, str]) -> tuple[str, str] | None:
    """The change as text found exactly once in the file, or None.

    `mutmut show` prints a method dedented, except its docstring's continuation lines; so when the hunk
    is not found as shown, try the lines that differ, with as little surrounding context as makes them
    unique, at a method's or a nested function's indentation."""
    if original.count(change[0]) == 1:
        return change
    old, new = change[0].split("\n"), change[1].split("\n")
    same_head = next((i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b), 0)
    same_tail = 0
    while same_tail < min(len(old), len(new)) - same_head and old[-1 - same_tail] == new[-1 - same_tail]:
        same_tail += 1
    for context in range(max(same_head, same_tail) + 1):
        start = max(0, same_head - context)
        cut = max(0, same_tail - context)
        for indent in ("", "    ", "        "):
            was, now = (_indented(lines[start : len(lines) - cut], indent) for lines in (old, new))
            if was and original.count(was) == 1:
                return was, now
    return None


def _indented(lines: list[str], indent: str) -> str:
    return "\n".join(indent + line if line.strip() else "" for line in lines)


def try_one(source: Path, original: str, change: tuple[str, str], tests: list[str]) -> str:
    found = placed(original, change)
    if found is None:
        return "could not apply (the changed lines are not unique in the file)"
    old, new = found
    source.write_text(original.replace(old, new, 1), encoding="utf-8")
    try:
        done = subprocess.run([*PYTEST, *tests], cwd=ROOT, capture_output=True, text=True, check=False)
    finally:
        source.write_text(original, encoding="utf-8")
    return "killed" if done.returncode != 0 else "SURVIVED"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("module", help="a module path under models/, e.g. models/llm/tool_results.py")
    parser.add_argument("--tests", action="append", required=True, help="test files or folders to run")
    parser.add_argument("--results", type=Path, default=ROOT / ".cache" / "mutants", help="an earlier run")
    parser.add_argument("--name", action="append", default=[], help="only these mutants")
    args = parser.parse_args(argv)
    source = ROOT / args.module
    original = source.read_text(encoding="utf-8")
    names = args.name or survivors(args.results, args.module)
    outcome: dict[str, int] = {}
    for name in names:
        verdict = try_one(source, original, mutant_change(args.results, name), args.tests)
        first_word = verdict.split(" ")[0]
        outcome[first_word] = outcome.get(first_word, 0) + 1
        print(f"{name}: {verdict}", flush=True)
    print(", ".join(f"{count} {verdict}" for verdict, count in sorted(outcome.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
