"""The project's import graph, read from the source (every import, wherever it stands: module level,
inside functions, under `if TYPE_CHECKING:`), for the layout tests."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("models", "tools", "tests", "bench")


def module_name(path: Path, repo: Path = REPO) -> str:
    parts = list(path.relative_to(repo).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def python_files(*roots: str, repo: Path = REPO) -> Iterator[Path]:
    for root in roots:
        base = repo / root
        if base.is_file():
            yield base
            continue
        for path in sorted(base.rglob("*.py")):
            if not any(part.startswith(".") or part == "__pycache__" for part in path.parts):
                yield path


def _imported(tree: ast.AST, name: str, is_package: bool) -> Iterator[str]:
    package = name if is_package else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)  # `from pkg import module`


def graph(*roots: str, repo: Path = REPO) -> dict[str, set[str]]:
    """module -> the project modules it imports (a `from a.b import c` counts a.b, and a.b.c if a module)."""
    files = {module_name(p, repo): p for p in python_files(*roots, repo=repo)}
    known = set(files)
    edges: dict[str, set[str]] = {}
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        folder = name.rpartition(".")[0]
        resolved = (_resolve(t, folder, known) for t in _imported(tree, name, path.name == "__init__.py"))
        # a package's __init__ imported on the way into one of its modules is not an edge back
        edges[name] = {t for t in resolved if t and t != name and not name.startswith(t + ".")}
    return edges


def _resolve(target: str, folder: str, known: set[str]) -> str:
    """The project module an import names ("" for a library)."""
    top = target.split(".", maxsplit=1)[0]
    if top not in PACKAGES and f"{folder}.{top}" in known:
        target = f"{folder}.{target}"  # a script's sibling, imported by bare name (its folder on sys.path)
    while target and target not in known:
        target = target.rpartition(".")[0]
    return target


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found
