"""Build dist/<name>-<version>.difypkg the way `dify plugin package` does, then check the result.

Usage: python -m tools.package [--out DIR] [--signing-key KEY.pem] [--repo-url URL --contact EMAIL]
                              [--require-publisher]

The package is a zip with file entries only, sorted by path, Deflate-compressed, with fixed
timestamps and modes so two builds of the same tree are byte-identical. .difyignore is read with
the daemon's semantics: gitignore patterns, the first exclusion wins, and `!` negations never
re-include anything (so we warn and skip them). Unlike the Go CLI we also always leave out
virtualenvs, git data, .env files, caches, dist/ and tests/ in case .difyignore forgets them.
"""

from __future__ import annotations

import argparse
import fnmatch
import logging
import os
import sys
import zipfile
from pathlib import Path

import yaml

from tools.archive import write_archive
from tools.package_inspect import MAX_UNCOMPRESSED, inspect_package
from tools.publisher import PublisherError, load, packaged_files, require
from tools.signing import SigningError, sign_package

log = logging.getLogger("tools.package")

ALWAYS_EXCLUDED = (
    "/.git", ".venv/", "venv/", ".env", ".env.*", "/dist/", "/tests/", "__pycache__/",
    ".pytest_cache/", ".ruff_cache/", ".mypy_cache/", ".cache/", "*.pyc", "*.difypkg", ".signing/", "*.pem",
    "publisher.local.yaml",
)  # fmt: skip


class PackageError(Exception):
    """The tree cannot be packaged at all (no manifest, too large)."""


class Pattern:
    """One gitignore-style line, matched like go-git (the library the Dify CLI uses)."""

    def __init__(self, line: str) -> None:
        self.dir_only = line.endswith("/")
        line = line.rstrip("/")
        # A slash anywhere but the end anchors the pattern to the root; otherwise it matches any component.
        self.anchored = "/" in line
        self.parts = [p for p in line.split("/") if p] if self.anchored else [line]

    def matches(self, parts: tuple[str, ...], is_dir: bool) -> bool:
        if not self.anchored:
            for index, name in enumerate(parts):
                if fnmatch.fnmatchcase(name, self.parts[0]):
                    return not (self.dir_only and not is_dir and index == len(parts) - 1)
            return False
        for end in range(1, len(parts) + 1):
            if self.dir_only and end == len(parts) and not is_dir:
                continue
            if _glob(self.parts, parts[:end]):
                return True
        return False


def _glob(pattern: list[str], parts: tuple[str, ...]) -> bool:
    if not pattern:
        return not parts
    if pattern[0] == "**":
        return any(_glob(pattern[1:], parts[skip:]) for skip in range(len(parts) + 1))
    return bool(parts) and fnmatch.fnmatchcase(parts[0], pattern[0]) and _glob(pattern[1:], parts[1:])


def load_patterns(root: Path) -> list[Pattern]:
    """Patterns from .difyignore (or .gitignore when it is absent, like the CLI) plus our safety net."""
    ignore = next((root / n for n in (".difyignore", ".gitignore") if (root / n).is_file()), None)
    lines = ignore.read_text(encoding="utf-8").splitlines() if ignore else []
    patterns = []
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("!"):
            log.warning("%s: ignoring %r: Dify does not support negated patterns", ignore.name, line)
            continue
        patterns.append(Pattern(line))
    return patterns + [Pattern(p) for p in ALWAYS_EXCLUDED]


def select_files(root: Path) -> list[str]:
    """Relative POSIX paths of every file to package, sorted; excluded directories prune their subtree."""
    patterns = load_patterns(root)
    chosen = []
    for current, dirs, files in os.walk(root):
        base = Path(current).relative_to(root).parts

        def kept(name: str, is_dir: bool, base: tuple[str, ...] = base) -> bool:
            return not any(p.matches((*base, name), is_dir) for p in patterns)

        dirs[:] = [d for d in dirs if kept(d, True)]
        chosen += ["/".join((*base, f)) for f in files if kept(f, False)]
    return sorted(chosen)


def _check_size(sizes: dict[str, int]) -> None:
    if sum(sizes.values()) > MAX_UNCOMPRESSED:
        largest = sorted(sizes, key=sizes.get, reverse=True)[:5]
        listing = ", ".join(f"{n} ({sizes[n]} B)" for n in largest)
        raise PackageError(
            f"package would be {sum(sizes.values())} B > {MAX_UNCOMPRESSED} B; largest: {listing}"
        )


def build_package(
    root: Path,
    out_dir: Path,
    suffix: str = "",
    replace: dict[str, bytes] | None = None,
    extra: dict[str, Path] | None = None,
) -> Path:
    """Write out_dir/<name>-<version><suffix>.difypkg from the plugin tree at root and return its path.

    `replace` swaps the content of packaged files (the offline requirements.txt), `extra` adds files
    from outside the tree under the given entry names (wheels/); entries stay sorted by path.
    """
    manifest_path = root / "manifest.yaml"
    if not manifest_path.is_file():
        raise PackageError(f"{manifest_path} not found")
    manifest = yaml.safe_load(manifest_path.read_text(encoding="utf-8")) or {}
    sources: dict[str, Path | bytes] = {name: root / name for name in select_files(root)}
    sources.update(extra or {})
    sources.update(replace or {})
    _check_size({n: len(s) if isinstance(s, bytes) else s.stat().st_size for n, s in sources.items()})
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{manifest.get('name')}-{manifest.get('version')}{suffix}.difypkg"
    entries = (
        (name, data if isinstance(data, bytes) else data.read_bytes())
        for name, data in sorted(sources.items())
    )
    return write_archive(target, entries)


def check_and_sign(path: Path, signing_key: Path | None = None) -> bool:
    """Inspect the built package, sign it when a key is given, inspect again; remove it on any problem."""
    problems = inspect_package(path)
    if not problems and signing_key:
        try:
            sign_package(path, signing_key)
        except SigningError as exc:
            problems = [f"cannot sign: {exc}"]
        else:
            problems = inspect_package(path)
    for problem in problems:
        log.error("%s", problem)
    if problems:
        # Removed so nothing downstream (an upload step, a colleague) installs a package the daemon refuses.
        path.unlink()
        log.error("%s had %d problem(s) and was removed", path, len(problems))
        return False
    with zipfile.ZipFile(path) as archive:
        count, size = len(archive.infolist()), sum(i.file_size for i in archive.infolist())
    how = "signed" if signing_key else "unsigned"
    packed = path.stat().st_size
    log.info("built %s (%s): %d files, %d B unpacked, %d B packed", path, how, count, size, packed)
    return True


def add_publisher_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repo-url", default="", help="publisher's source repository (else $REPO_URL)")
    parser.add_argument("--contact", default="", help="publisher's contact e-mail (else $CONTACT)")
    parser.add_argument(
        "--require-publisher", action="store_true", help="refuse to build without them (Marketplace builds)"
    )


def publisher_files(root: Path, args: argparse.Namespace) -> dict[str, bytes]:
    """The packaged manifest and READMEs with the publisher settings (tools/publisher.py), if any."""
    publisher = load(root, args.repo_url, args.contact)
    if args.require_publisher:
        publisher = require(publisher)
    if publisher is None:
        log.info(
            "no publisher settings (REPO_URL, CONTACT): fine for a private install, not for the Marketplace"
        )
    return packaged_files(root, publisher)


def main(argv: list[str] | None = None) -> int:
    root = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(prog="python -m tools.package", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=root / "dist", help="output folder (default: dist/)")
    parser.add_argument("--signing-key", type=Path, help="RSA private key (PEM) to sign the package with")
    add_publisher_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        replace = publisher_files(root, args)
        path = build_package(root, args.out, replace=replace)
    except (PackageError, PublisherError) as exc:
        log.error("cannot package: %s", exc)
        return 1
    return 0 if check_and_sign(path, args.signing_key) else 1


if __name__ == "__main__":
    sys.exit(main())
