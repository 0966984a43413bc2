"""What every rule returns, and the unpacked package every rule reads."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml

ERROR = "error"  # the Marketplace's pre-check refuses the package
WARNING = "warning"  # shown to reviewers or on the plugin page; explain it in the submission notes
EXPECTED = "expected"  # an error that the kind of package requires (offline packages), with the reason


@dataclass(frozen=True)
class Finding:
    rule: str
    level: str
    message: str


@dataclass
class Package:
    """A .difypkg unpacked into `root` (a zip-slip-safe extraction), plus what rules ask of it."""

    path: Path
    root: Path
    names: list[str] = field(default_factory=list)

    @classmethod
    def unpack(cls, path: Path, target: Path) -> Package:
        with zipfile.ZipFile(path) as archive:
            names = [info.filename for info in archive.infolist() if not info.is_dir()]
            for name in names:
                parts = PurePosixPath(name).parts
                if PurePosixPath(name).is_absolute() or ".." in parts or "\\" in name:
                    raise ValueError(f"{name}: path escapes the plugin directory")
            archive.extractall(target)
        return cls(path=path, root=target, names=sorted(names))

    @property
    def offline(self) -> bool:
        """Offline packages carry their wheels (tools/offline.py); they are not for the Marketplace."""
        return any(name.startswith("wheels/") for name in self.names)

    def text(self, name: str) -> str | None:
        path = self.root / name
        return path.read_text(encoding="utf-8", errors="ignore") if path.is_file() else None

    def manifest(self) -> dict:
        try:
            loaded = yaml.safe_load(self.text("manifest.yaml") or "")
        except yaml.YAMLError:
            return {}
        return loaded if isinstance(loaded, dict) else {}

    def files(self, suffixes: tuple[str, ...] = ()) -> Iterator[tuple[str, Path]]:
        """(name, path) of packaged files, optionally only those with the given suffixes."""
        for name in self.names:
            if not suffixes or name.lower().endswith(suffixes):
                yield name, self.root / name


def findings(rule: str, level: str, messages: list[str]) -> list[Finding]:
    return [Finding(rule, level, message) for message in messages]
