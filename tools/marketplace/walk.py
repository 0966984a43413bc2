"""The packaged source files that the code scans read (not vendored trees, not dependency lists)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePosixPath

from tools.marketplace.findings import Package

SOURCE_SUFFIXES = (".py", ".yaml", ".yml", ".json", ".toml", ".js", ".ts")
SKIPPED_DIRS = {"venv", "env", "node_modules", "vendor", "__pycache__", "site-packages", "dist-packages"}
DEPENDENCY_FILES = {"requirements.txt", "pyproject.toml", "uv.lock"}
MAX_BYTES = 1024 * 1024


def source_files(pkg: Package, suffixes: tuple[str, ...] = SOURCE_SUFFIXES) -> Iterator[tuple[str, str]]:
    """(name, text) of every packaged source file the scans read."""
    for name, path in pkg.files(suffixes):
        parts = PurePosixPath(name).parts
        if any(part.startswith(".") or part.lower() in SKIPPED_DIRS for part in parts):
            continue
        if parts[-1] in DEPENDENCY_FILES or path.stat().st_size > MAX_BYTES:
            continue
        yield name, path.read_text(encoding="utf-8", errors="ignore")
