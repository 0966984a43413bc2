"""The .difypkg builder: what goes in, what stays out, and that inspection catches a bad archive."""

from __future__ import annotations

import logging
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from tools.packaging import package, package_inspect
from tools.packaging.package import PackageError, build_package, inspect_package, select_files

ROOT = Path(__file__).resolve().parents[2]
MODEL_TYPES = ("llm", "text_embedding", "rerank", "speech2text", "tts")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return build_package(ROOT, tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="module")
def entries(built) -> dict[str, bytes]:
    with zipfile.ZipFile(built) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def _plugin_copy(dest: Path) -> Path:
    """Only the files that would be packaged, so the copy is small and has no .venv."""
    for name in select_files(ROOT):
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / name, target)
    return dest


def _write_zip(
    path: Path, files: dict[str, bytes], *, sort: bool = True, method=zipfile.ZIP_DEFLATED
) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name in sorted(files) if sort else files:
            archive.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), files[name], compress_type=method)
    return path


def test_repository_package_passes_inspection(built):
    assert built.name == "xinference-0.1.0.difypkg"
    assert inspect_package(built) == []


def test_archive_layout_is_what_the_daemon_expects(built):
    with zipfile.ZipFile(built) as archive:
        infos = archive.infolist()
        names = [i.filename for i in infos]
        assert names == sorted(names)
        assert not [i for i in infos if i.is_dir() or i.filename.endswith("/")]
        assert {i.compress_type for i in infos} == {zipfile.ZIP_DEFLATED}
        assert "manifest.yaml" in names  # at the root, not under a top folder
        assert sum(i.file_size for i in infos) <= 50 * 1024 * 1024
        assert archive.comment == b""


def test_runtime_files_are_in_and_development_files_are_out(entries):
    wanted = {
        "manifest.yaml",
        "main.py",
        "requirements.txt",
        "provider/xinference.yaml",
        "provider/xinference.py",
    }
    wanted |= {f"models/{t}/{t}.py" for t in MODEL_TYPES} | {"_assets/icon_s_en.svg", "_assets/icon_l_en.svg"}
    assert wanted <= set(entries)
    assert "models/_xinference/client.py" in entries
    for name in entries:
        parts = name.split("/")
        assert parts[0] not in {"tests", "tools", "dist", "scripts", ".venv", ".git", ".ci"}, name
        assert "__pycache__" not in parts and not name.endswith(".pyc"), name
        assert parts[-1] not in {".env", ".env.example", "pyproject.toml", "Makefile", ".difyignore"}, name


def test_two_builds_are_byte_identical_despite_mtimes_and_modes(tmp_path):
    tree = _plugin_copy(tmp_path / "plugin")
    first = build_package(tree, tmp_path / "a").read_bytes()
    for path in tree.rglob("*.py"):
        os.utime(path, (1_900_000_000, 1_900_000_000))
        path.chmod(0o755)
    assert build_package(tree, tmp_path / "b").read_bytes() == first


def test_safety_net_without_difyignore(tmp_path):
    tree = _plugin_copy(tmp_path / "plugin")
    (tree / ".difyignore").unlink(missing_ok=True)
    junk = [".venv/bin/python", ".git/HEAD", ".env", ".env.local", "dist/old.difypkg", "tests/test_x.py",
            "models/__pycache__/x.cpython-312.pyc", "venv/lib/x.py", ".pytest_cache/v",
            "models/llm/.ruff_cache/x"]  # fmt: skip
    for name in junk:
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text("SECRET")
    built = build_package(tree, tmp_path / "out")
    names = set(zipfile.ZipFile(built).namelist())
    assert names.isdisjoint(junk)
    assert inspect_package(built) == []


def test_difyignore_patterns(tmp_path, caplog):
    (tmp_path / ".difyignore").write_text(
        "# comment\n\n*.log\nbuild/\n/secret.txt\ndata/**/*.bin\n!keep.log\nnotes\ndocs/*.md\n"
    )
    files = ["a.log", "sub/b.log", "keep.log", "build/x.py", "sub/build/y.py", "build.py", "secret.txt",
             "sub/secret.txt", "data/x/y/z.bin", "data/top.bin", "data/x/readme.md", "notes/n.txt",
             "sub/notes", "docs/a.md", "docs/deep/b.md", "main.py"]  # fmt: skip
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    with caplog.at_level(logging.WARNING, logger="tools.packaging.package"):
        kept = select_files(tmp_path)
    expected = ["build.py", "data/x/readme.md", "docs/deep/b.md", "main.py", "sub/secret.txt"]
    assert kept == sorted([*expected, ".difyignore"])
    assert any("!keep.log" in record.getMessage() for record in caplog.records)


def test_gitignore_is_used_only_without_difyignore(tmp_path):
    (tmp_path / ".gitignore").write_text("*.tmp\n")
    (tmp_path / "a.tmp").write_text("x")
    (tmp_path / "b.txt").write_text("x")
    assert select_files(tmp_path) == [".gitignore", "b.txt"]
    (tmp_path / ".difyignore").write_text("b.txt\n")
    assert select_files(tmp_path) == [".difyignore", ".gitignore", "a.tmp"]


def test_oversized_tree_is_refused_with_the_largest_files(tmp_path, monkeypatch):
    tree = _plugin_copy(tmp_path / "plugin")
    monkeypatch.setattr(package, "MAX_UNCOMPRESSED", 1000)
    with pytest.raises(PackageError, match=r"provider/xinference\.yaml"):
        build_package(tree, tmp_path / "out")


def _drop(name):
    return lambda files: files.pop(name)


def _add(name, data=b"x"):
    return lambda files: files.__setitem__(name, data)


BAD_ARCHIVES = [
    ("no manifest", _drop("manifest.yaml"), "manifest.yaml missing"),
    ("no requirements", _drop("requirements.txt"), "requirements.txt: missing"),
    ("no icon", _drop("_assets/icon_l_en.svg"), "_assets/icon_l_en.svg: missing"),
    ("no model source", _drop("models/tts/tts.py"), "models/tts/tts.py: missing"),
    ("no provider yaml", _drop("provider/xinference.yaml"), "provider/xinference.yaml"),
    ("no main", _drop("main.py"), "main.py: missing"),
    ("pyproject", _add("pyproject.toml"), "pyproject.toml"),
    (".env", _add(".env", b"REMOTE_INSTALL_KEY=x"), ".env"),
    ("tests", _add("tests/test_a.py"), "tests/test_a.py"),
    ("venv", _add(".venv/pyvenv.cfg"), ".venv/pyvenv.cfg"),
    ("pycache", _add("models/__pycache__/a.pyc"), "__pycache__"),
    ("syntax error", _add("models/_xinference/broken.py", b"def (:\n"), "does not compile"),
    ("escaping path", _add("../evil.py"), "escapes"),
    ("requirements without sdk", _add("requirements.txt", b"requests==2\n"), "dify_plugin"),
]


@pytest.mark.parametrize(("case", "change", "needle"), BAD_ARCHIVES, ids=[c[0] for c in BAD_ARCHIVES])
def test_inspection_catches_bad_archives(tmp_path, entries, case, change, needle):
    files = dict(entries)
    change(files)
    problems = inspect_package(_write_zip(tmp_path / "bad.difypkg", files))
    assert any(needle in p for p in problems), (case, problems)


def test_inspection_catches_layout_faults(tmp_path, entries, monkeypatch):
    unsorted = dict(reversed(list(entries.items())))
    assert any("sorted" in p for p in inspect_package(_write_zip(tmp_path / "u.zip", unsorted, sort=False)))
    stored = inspect_package(_write_zip(tmp_path / "s.zip", entries, method=zipfile.ZIP_STORED))
    assert any("Deflate" in p for p in stored)
    with_dir = _write_zip(tmp_path / "d.zip", {**entries, "models/": b""})
    assert any("directory entry" in p for p in inspect_package(with_dir))
    (tmp_path / "junk.difypkg").write_bytes(b"not a zip")
    assert "not a readable zip" in inspect_package(tmp_path / "junk.difypkg")[0]
    monkeypatch.setattr(package_inspect, "MAX_UNCOMPRESSED", 1000)
    assert any("exceeds" in p for p in inspect_package(_write_zip(tmp_path / "big.zip", entries)))


def test_command_line_builds_and_inspects(tmp_path):
    assert package.main(["--out", str(tmp_path)]) == 0
    assert inspect_package(tmp_path / "xinference-0.1.0.difypkg") == []


def test_command_line_fails_and_removes_a_refused_package(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(package, "inspect_package", lambda _path: ["icon missing"])
    assert package.main(["--out", str(tmp_path / "a")]) == 1
    assert not list((tmp_path / "a").glob("*.difypkg"))
    assert any("icon missing" in r.getMessage() for r in caplog.records)
    monkeypatch.setattr(package, "MAX_UNCOMPRESSED", 1000)
    assert package.main(["--out", str(tmp_path / "b")]) == 1
