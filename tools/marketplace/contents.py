"""What is inside the package: development leftovers, size, native binaries, Python that compiles."""

from __future__ import annotations

import stat
import zipfile
from pathlib import PurePosixPath

from tools.marketplace.findings import ERROR, WARNING, Finding, Package, findings

MAX_BYTES = 50 * 1024 * 1024  # both the .difypkg and its unpacked files
MAX_FILES = 5000
BLOCKED_DIRS = {
    ".git", ".hg", ".svn", ".venv", "venv", "env", "__pycache__", "pycache", ".pytest_cache", ".ruff_cache",
    ".mypy_cache", ".tox", ".nox", ".idea", ".vscode", "node_modules",
}  # fmt: skip
REVIEW_DIRS = {"build", "dist"}
BLOCKED_NAMES = {".DS_Store", ".gitconfig", "Thumbs.db", "desktop.ini", "id_rsa"}
ENV_EXAMPLES = {".env.example", ".env.sample", ".env.template"}
BLOCKED_SUFFIXES = {".key", ".pem", ".p12", ".pfx", ".pyc", ".pyo", ".log", ".tmp", ".swp", ".swo", ".bak"}
ARCHIVE_SUFFIXES = {".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar"}
MAGIC = {
    b"\x7fELF": "ELF executable or shared library",
    b"MZ": "Windows executable or DLL",
    b"\xfe\xed\xfa\xce": "Mach-O binary",
    b"\xfe\xed\xfa\xcf": "Mach-O binary",
    b"\xce\xfa\xed\xfe": "Mach-O binary",
    b"\xcf\xfa\xed\xfe": "Mach-O binary",
    b"\xca\xfe\xba\xbe": "Mach-O universal binary",
    b"\xca\xfe\xba\xbf": "Mach-O universal binary",
}
NATIVE_SUFFIXES = {".dll", ".dylib", ".exe", ".node", ".pyd", ".so"}
SCRIPT_SUFFIXES = {".app", ".bin", ".command", ".run", ".sh"}
DAEMON_BINARY_PREFIX = "dify-plugin-"  # dify-plugin-linux-amd64 and friends: never inside a plugin


def contents_rule(pkg: Package) -> list[Finding]:
    errors, warnings = [], []
    for name in pkg.names:
        path = PurePosixPath(name)
        suffix = path.suffix.lower()
        if blocked := BLOCKED_DIRS.intersection(path.parts[:-1]):
            errors.append(f"{name}: inside {sorted(blocked)[0]}/, a development directory")
        elif REVIEW_DIRS.intersection(path.parts[:-1]):
            warnings.append(f"{name}: inside a build/ or dist/ directory (review)")
        if path.name in BLOCKED_NAMES or (path.name.startswith(".env") and path.name not in ENV_EXAMPLES):
            errors.append(f"{name}: must not be packaged")
        elif suffix in BLOCKED_SUFFIXES:
            errors.append(f"{name}: a {suffix} file must not be packaged")
        elif suffix in ARCHIVE_SUFFIXES:
            warnings.append(f"{name}: an archive (review)")
    sizes = sum((pkg.root / name).stat().st_size for name in pkg.names)
    if pkg.path.stat().st_size > MAX_BYTES:
        errors.append(f"{pkg.path.name}: {pkg.path.stat().st_size} B > {MAX_BYTES} B")
    if sizes > MAX_BYTES:
        errors.append(f"unpacked files: {sizes} B > {MAX_BYTES} B")
    if len(pkg.names) > MAX_FILES:
        errors.append(f"{len(pkg.names)} files > {MAX_FILES}")
    return findings("contents", ERROR, errors) + findings("contents", WARNING, warnings)


def _binary_reasons(name: str, head: bytes, executable: bool) -> tuple[list[str], list[str]]:
    """(blocking reasons, review reasons) for one file."""
    blocking, review = [], []
    suffix = PurePosixPath(name).suffix.lower()
    base = PurePosixPath(name).name
    if base.startswith(DAEMON_BINARY_PREFIX) and base.split("-")[2:3] in (["linux"], ["darwin"], ["windows"]):
        blocking.append("a plugin daemon binary")
    blocking += [why for magic, why in MAGIC.items() if head.startswith(magic)][:1]
    if suffix in NATIVE_SUFFIXES:
        blocking.append(f"native library suffix {suffix}")
    elif suffix in SCRIPT_SUFFIXES:
        review.append(f"script or binary-like suffix {suffix}")
    if executable:
        review.append("has the executable bit")
    return blocking, review


def _wheel_binaries(pkg: Package, name: str) -> list[str]:
    """Native files inside a bundled wheel: allowed (wheels carry compiled extensions), but listed."""
    with zipfile.ZipFile(pkg.root / name) as wheel:
        inner = [info.filename for info in wheel.infolist() if not info.is_dir()]
        native = [n for n in inner if PurePosixPath(n).suffix.lower() in NATIVE_SUFFIXES or ".so." in n]
    return [f"{name}: {len(native)} compiled file(s): {', '.join(sorted(native))}"] if native else []


def binaries_rule(pkg: Package) -> list[Finding]:
    errors, warnings = [], []
    with zipfile.ZipFile(pkg.path) as archive:
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
    for name, path in pkg.files():
        with path.open("rb") as handle:
            head = handle.read(8)
        executable = bool(modes.get(name, 0) & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH))
        blocking, review = _binary_reasons(name, head, executable)
        if name.endswith(".whl"):
            warnings += _wheel_binaries(pkg, name)
        elif blocking:
            errors.append(f"{name}: {'; '.join(blocking)}")
        warnings += [f"{name}: {why}" for why in review]
    return findings("binaries", ERROR, errors) + findings("binaries", WARNING, warnings)


def compile_rule(pkg: Package) -> list[Finding]:
    errors = []
    for name, path in pkg.files((".py",)):
        try:
            compile(path.read_bytes(), name, "exec")
        except (SyntaxError, ValueError) as exc:
            errors.append(f"{name}: does not compile ({exc})")
    return findings("python-compile", ERROR, errors)
