"""Re-opening a built .difypkg and listing everything the Dify daemon would refuse.

The rules come from the daemon's loader: file entries only, no path escaping the plugin folder,
Deflate, the size cap, a manifest and provider YAML that parse and name files that exist, Python
that compiles, and a signature (when present) in the form the daemon verifies.
"""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath

import yaml

from tools.packaging.manifest_rules import manifest_problems, provider_problems, referenced_icons
from tools.packaging.signing import VERIFICATION_FILE, signature_problems

MAX_UNCOMPRESSED = 50 * 1024 * 1024  # the daemon's MAX_PLUGIN_PACKAGE_SIZE default
FORBIDDEN_PARTS = {
    ".git",
    ".venv",
    "venv",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    ".cache",
}
FORBIDDEN_TOP = {"tests", "dist", "pyproject.toml"}


def _entry_problems(infos: list[zipfile.ZipInfo]) -> list[str]:
    problems = []
    names = [info.filename for info in infos]
    if names[-1:] == [VERIFICATION_FILE]:  # the signer appends it after the sorted entries
        names = names[:-1]
    if names != sorted(names) or len(set(names)) != len(names):
        problems.append("entries are not sorted by path, or repeat")
    for info in infos:
        path = PurePosixPath(info.filename)
        if info.is_dir():
            problems.append(f"{info.filename}: directory entry (the daemon reads every entry as a file)")
        if path.is_absolute() or ".." in path.parts or "\\" in info.filename:
            problems.append(f"{info.filename}: path escapes the plugin directory")
        if info.compress_type != zipfile.ZIP_DEFLATED:
            problems.append(f"{info.filename}: not Deflate-compressed")
        forbidden = FORBIDDEN_PARTS.intersection(path.parts) or path.parts[0] in FORBIDDEN_TOP
        if (
            forbidden
            or path.name == ".env"
            or path.name.startswith(".env.")
            or path.suffix in {".pyc", ".difypkg", ".pem"}
        ):
            problems.append(f"{info.filename}: must not be packaged")
    total = sum(info.file_size for info in infos)
    if total > MAX_UNCOMPRESSED:
        problems.append(f"uncompressed size {total} B exceeds {MAX_UNCOMPRESSED} B")
    return problems


def _yaml_in(archive: zipfile.ZipFile, names: set[str], name: str) -> dict | None:
    if name not in names:
        return None
    return yaml.safe_load(archive.read(name))


def _content_problems(archive: zipfile.ZipFile, names: set[str]) -> list[str]:
    manifest = _yaml_in(archive, names, "manifest.yaml")
    if manifest is None:
        return ["manifest.yaml missing from the archive root"]
    problems = manifest_problems(manifest)
    entry = str((manifest.get("meta") or {}).get("runner", {}).get("entrypoint", "main"))
    required = {"requirements.txt", f"{entry.replace('.', '/')}.py"}
    requirements = archive.read("requirements.txt") if "requirements.txt" in names else b"dify_plugin"
    if b"dify_plugin" not in requirements.replace(b"-", b"_").lower():
        problems.append("requirements.txt does not list dify_plugin")
    for provider_path in (manifest.get("plugins") or {}).get("models") or []:
        provider = _yaml_in(archive, names, provider_path)
        if provider is None:
            problems.append(f"{provider_path}: listed in the manifest but missing")
            continue
        problems += provider_problems(provider)
        python = (provider.get("extra") or {}).get("python") or {}
        required.update([python.get("provider_source") or "", *(python.get("model_sources") or [])])
        required.update(f"_assets/{icon}" for icon in referenced_icons(manifest, provider))
    problems += [f"{name}: missing" for name in sorted(required - names) if name]
    for name in sorted(n for n in names if n.endswith(".py")):
        try:
            compile(archive.read(name), name, "exec")
        except SyntaxError as exc:
            problems.append(f"{name}: does not compile ({exc.msg}, line {exc.lineno})")
    return problems


def inspect_package(path: Path) -> list[str]:
    """Re-open a built .difypkg and list everything the daemon would refuse; empty means OK."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        return [f"{path}: not a readable zip ({exc})"]
    with archive:
        infos = archive.infolist()
        problems = _entry_problems(infos)
        bad = archive.testzip()
        if bad:
            problems.append(f"{bad}: CRC check failed")
        problems += signature_problems(archive)
        return problems + _content_problems(archive, {i.filename for i in infos if not i.is_dir()})
