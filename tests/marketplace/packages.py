"""Packages for the Marketplace rule tests: the real package with publisher settings, and broken copies."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from tools.archive import entry_info, write_archive
from tools.marketplace.__main__ import RULES
from tools.marketplace.findings import Finding, Package
from tools.package import build_package
from tools.publisher import Publisher, packaged_files

ROOT = Path(__file__).resolve().parents[2]
ELF = b"\x7fELF\x02\x01\x01" + b"\0" * 64
PUBLISHER = Publisher("https://github.com/acme/xinference-dify-plugin", "plugins@acme.example")


def good_package(out: Path) -> Path:
    return build_package(ROOT, out, replace=packaged_files(ROOT, PUBLISHER))


def variant(
    base: Path,
    target: Path,
    put: dict[str, bytes] | None = None,
    drop: tuple[str, ...] = (),
    modes: dict[str, int] | None = None,
) -> Path:
    """A copy of `base` with files replaced or added (`put`), removed (`drop`), or given a Unix mode."""
    with zipfile.ZipFile(base) as archive:
        entries = {name: archive.read(name) for name in archive.namelist() if name not in drop}
    entries.update(put or {})
    write_archive(target, sorted(entries.items()))
    if modes:  # rewrite with the given modes (write_archive always writes 0644)
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, data in sorted(entries.items()):
                info = entry_info(name)
                info.external_attr = (0o100000 | modes.get(name, 0o644)) << 16
                archive.writestr(info, data)
    return target


def text_of(package: Path, name: str) -> str:
    with zipfile.ZipFile(package) as archive:
        return archive.read(name).decode("utf-8")


def check(package: Path, workdir: Path, only: str | None = None) -> list[Finding]:
    """Every package rule (not the install or the notes) on `package`, or only the one named."""
    pkg = Package.unpack(package, workdir / f"unpacked-{package.stem}")
    return [finding for name, rule in RULES if only in (None, name) for finding in rule(pkg)]


def matching(found: list[Finding], rule: str, level: str) -> list[str]:
    return [f.message for f in found if f.rule == rule and f.level == level]


def wheel_with_so() -> bytes:
    """A wheel holding one compiled extension (as the offline packages' wheels do)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as wheel:
        wheel.writestr("fast/_speedups.cpython-312-x86_64-linux-gnu.so", ELF)
        wheel.writestr("fast/__init__.py", "")
    return buffer.getvalue()
