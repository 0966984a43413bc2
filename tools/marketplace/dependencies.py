"""The dependency policy: every requirement reproducible, pinned or bounded, from the package index.

The Marketplace's parser reads requirements.txt line by line: a line starting with a known option
that takes a value (`--find-links X`, `--index-url X` …) is skipped, and every other line is read as
a requirement — so a bare `--no-index` line counts as a dependency without a version constraint.
"""

from __future__ import annotations

import re

from tools.marketplace.findings import ERROR, EXPECTED, WARNING, Finding, Package

OPTION_PREFIXES = (
    "-c ", "--constraint ", "--extra-index-url ", "--find-links ", "--index-url ", "--no-binary ",
    "--only-binary ", "--trusted-host ", "--use-pep517", "--use-feature ",
)  # fmt: skip
VERSION_OPERATOR = re.compile(r"===|==|~=|!=|<=|>=|<|>|\^")
LOWER_BOUND_ONLY = re.compile(r"^([^<>=!~]+)?(>=|>)\s*[^,]+$")
NAME = re.compile(r"^\s*([A-Za-z0-9_.-]+)")
MIN_DIFY_PLUGIN = (0, 9, 0)
LARGE = {
    "chromadb", "faiss-cpu", "faiss-gpu", "jax", "llama-cpp-python", "opencv-contrib-python", "opencv-python",
    "opencv-python-headless", "paddlepaddle", "playwright", "pyppeteer", "selenium", "spacy", "tensorflow",
    "tensorflow-cpu", "torch", "torchaudio", "torchvision", "transformers",
}  # fmt: skip
# Why an offline package's `--no-index` line is right although the Marketplace's parser counts it as a
# dependency (offline packages are for air-gapped sites, never submitted).
NO_INDEX_REASON = (
    "offline packages must not read any index; the daemon installs with uv, which reads an option's value to "
    "the end of the line, so the one-line `--find-links ./wheels --no-index` that the Marketplace parser "
    "accepts makes uv fail ('Invalid URL … ./wheels --no-index'); `--no-index` has to stay on its own line"
)


def _version(text: str) -> tuple[int, ...]:
    parts = []
    for part in re.split(r"[.+-]", text):
        if not part.isdigit():
            break
        parts.append(int(part))
    return tuple(parts)


def _source_problems(line: str) -> tuple[list[str], list[str]] | None:
    """Where the requirement comes from: (errors, warnings), or None for a requirement from the index."""
    if re.search(r"git\+", line, re.IGNORECASE):
        return [f"a git install: {line}"], []
    if re.search(r"(^|\s@)\s*(?:https?|ftp|file)://", line, re.IGNORECASE):
        return [f"a direct URL install: {line}"], []
    if line.startswith(("-e ", "--editable ")):
        return [], [f"an editable install (review): {line}"]
    if re.search(r"(^|\s@)\s*(?:\./|\.\./|/)", line):
        return [], [f"a local path (review): {line}"]
    if line.startswith(OPTION_PREFIXES) or line.startswith(("-r ", "--requirement ")):
        return [], []
    return None


def requirement_problems(line: str) -> tuple[list[str], list[str]]:
    """(errors, warnings) for one requirements.txt line, comments already removed."""
    if (source := _source_problems(line)) is not None:
        return source
    match = NAME.match(line.split(" @ ", 1)[0])
    name = match.group(1).lower().replace("_", "-") if match else ""
    warnings = [f"a large dependency (review): {name}"] if name in LARGE else []
    if name == "dify-plugin":
        bound = re.search(r"(?:>=|==)\s*([0-9][0-9A-Za-z.+-]*)", line)
        if bound is None or _version(bound.group(1)) < MIN_DIFY_PLUGIN:
            return [f"dify_plugin must be >= 0.9.0: {line}"], warnings
    if not VERSION_OPERATOR.search(line):
        return [f"no version constraint: {line}"], warnings
    if LOWER_BOUND_ONLY.match(line):
        warnings.append(f"only a lower bound: {line}")
    return [], warnings


def dependencies_rule(pkg: Package) -> list[Finding]:
    text = pkg.text("requirements.txt")
    if text is None:
        return [Finding("dependencies", ERROR, "requirements.txt is missing")]
    if "pyproject.toml" in pkg.names:
        return [
            Finding(
                "dependencies", ERROR, "pyproject.toml is packaged: the daemon would ignore requirements.txt"
            )
        ]
    result = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        errors, warnings = requirement_problems(line)
        for message in errors:
            offline_ok = pkg.offline and line == "--no-index"
            level, why = (EXPECTED, f" — {NO_INDEX_REASON}") if offline_ok else (ERROR, "")
            result.append(Finding("dependencies", level, f"requirements.txt:{number}: {message}{why}"))
        result += [Finding("dependencies", WARNING, f"requirements.txt:{number}: {m}") for m in warnings]
    return result
