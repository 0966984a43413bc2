"""Deterministic zip writing shared by the packager and the signer.

Fixed timestamps, Unix mode 0644, Deflate and the entry order given by the caller, so the same
entries always give the same bytes (the signer rewrites an archive without changing a single entry).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from pathlib import Path

FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # earliest zip date; keeps builds reproducible


def entry_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # Unix, so external_attr means the same on every build host
    info.external_attr = 0o100644 << 16
    return info


def write_archive(target: Path, entries: Iterable[tuple[str, bytes]], comment: bytes = b"") -> Path:
    """Write the entries in the given order to target (atomically: a reader never sees half a file)."""
    partial = target.with_name(target.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(entry_info(name), data)
        archive.comment = comment
    partial.replace(target)
    return target
