"""Build dist/<name>-<version>-offline-linux-{amd64,arm64}.difypkg: the plugin plus every wheel it needs.

Usage: python -m tools.offline [--out DIR] [--signing-key KEY.pem] [--arch amd64|arm64 ...]

Same tree, ignore rules and checks as `make package`, plus `wheels/` (CPython 3.12, manylinux, binary
only, fetched once per lock into the cache of tools/wheels.py) and a requirements.txt that installs
the lock's exact pins from ./wheels with the index switched off. Before a package is kept its
requirements must resolve from its own wheels, and it must fit the size caps of a default Dify.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import sys
import tempfile
import zipfile
from pathlib import Path

from tools.lock import LOCK, ROOT, LockError, offline_requirements
from tools.package import (
    PackageError,
    add_publisher_arguments,
    build_package,
    check_and_sign,
    publisher_files,
)
from tools.publisher import PublisherError
from tools.wheels import ARCHES, WheelError, fetch_wheels, resolution_problems

log = logging.getLogger("tools.offline")

MAX_PACKED = 15 * 1024 * 1024  # the Dify API's PLUGIN_MAX_PACKAGE_SIZE code default (upload cap)
MAX_UNPACKED = 50 * 1024 * 1024  # the daemon's MAX_PLUGIN_PACKAGE_SIZE default


def offline_suffix(arch: str) -> str:
    return f"-offline-linux-{arch}"


def size_problems(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        unpacked = sum(info.file_size for info in archive.infolist())
    problems = []
    if path.stat().st_size > MAX_PACKED:
        problems.append(f"{path.name}: {path.stat().st_size} B packed > {MAX_PACKED} B (Dify's upload cap)")
    if unpacked > MAX_UNPACKED:
        problems.append(f"{path.name}: {unpacked} B unpacked > {MAX_UNPACKED} B (the daemon's cap)")
    return problems


def _install_problems(path: Path, arch: str) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="offline-check-") as scratch:
        with zipfile.ZipFile(path) as archive:
            archive.extractall(scratch)
        return resolution_problems(Path(scratch), arch)


def build_offline(
    arch: str, out_dir: Path, root: Path = ROOT, replace: dict[str, bytes] | None = None
) -> Path:
    """Build the unsigned offline package for arch (checked for size and completeness) and return it.

    `replace` swaps packaged files (the publisher's manifest and READMEs); requirements.txt is ours."""
    lock = (root / LOCK.name).read_text(encoding="utf-8")
    wheels = fetch_wheels(lock, arch)
    requirements = offline_requirements(lock, f"CPython 3.12, Linux {arch} (manylinux)")
    path = build_package(
        root,
        out_dir,
        suffix=offline_suffix(arch),
        replace={**(replace or {}), "requirements.txt": requirements.encode()},
        extra={f"wheels/{wheel.name}": wheel for wheel in wheels},
    )
    if problems := size_problems(path) + _install_problems(path, arch):
        path.unlink()
        raise PackageError("; ".join(problems))
    return path


def write_checksums(paths: list[Path]) -> Path:
    """<name>-<version>-offline.sha256 next to the packages, in `sha256sum -c` format."""
    lines = [f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.name}\n" for path in sorted(paths)]
    target = paths[0].with_name(paths[0].name.split("-offline-")[0] + "-offline.sha256")
    target.write_text("".join(lines), encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.offline", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="output folder (default: dist/)")
    parser.add_argument("--signing-key", type=Path, help="RSA private key (PEM) to sign the packages with")
    parser.add_argument("--arch", action="append", choices=sorted(ARCHES), help="default: both")
    add_publisher_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    built = []
    for arch in args.arch or sorted(ARCHES):
        try:
            path = build_offline(arch, args.out, replace=publisher_files(ROOT, args))
        except (PackageError, WheelError, LockError, PublisherError) as exc:
            log.error("cannot build the offline package for linux-%s: %s", arch, exc)
            return 1
        if not check_and_sign(path, args.signing_key):
            return 1
        built.append(path)
    log.info("checksums in %s", write_checksums(built))
    return 0


if __name__ == "__main__":
    sys.exit(main())
