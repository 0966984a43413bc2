"""The offline packages: self-contained, within Dify's size caps, installable with no network at all.

The amd64 package is installed exactly as the daemon installs a plugin (unpacked folder, `uv venv
--python 3.12`, `uv pip install -r requirements.txt` with the daemon's minimal environment and an
empty uv cache) inside `unshare -n`, where no interface is up; then, with only loopback up, the
installed plugin starts in local mode and serves a schema, a chat and an embedding from the recorded
Xinference. The arm64 package cannot run here, so it must resolve completely from its own wheels.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from tests.e2e.packaged import python312
from tests.packaging.daemon_signature import daemon_verify
from tools.packaging.lock import LOCK, canonical, parse_lock
from tools.packaging.offline import MAX_PACKED, MAX_UNPACKED, build_offline, offline_suffix
from tools.packaging.package import build_package, check_and_sign, inspect_package
from tools.packaging.wheels import ARCHES, needed, resolution_problems

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
MIRROR = "http://10.255.255.1/simple"  # what PIP_MIRROR_URL would add; unreachable by design
HELLO = "Hello! I am a tiny test model."  # what the recorded tiny model answers


def _package(dist: Path, arch: str) -> Path:
    (path,) = dist.glob(f"*{offline_suffix(arch)}.difypkg")
    return path


def _unpack(package: Path, into: Path) -> Path:
    with zipfile.ZipFile(package) as archive:
        archive.extractall(into)
    return into


@pytest.mark.parametrize("arch", sorted(ARCHES))
def test_package_holds_the_tree_the_lock_and_its_wheels_within_the_caps(dist, arch, tmp_path):
    path = _package(dist, arch)
    assert inspect_package(path) == []
    with zipfile.ZipFile(path) as archive:
        names = [info.filename for info in archive.infolist()]
        unpacked = sum(info.file_size for info in archive.infolist())
        requirements = archive.read("requirements.txt").decode()
    print(f"\n{path.name}: {path.stat().st_size} B packed, {unpacked} B unpacked")  # for the report (-s)
    assert path.stat().st_size <= MAX_PACKED and unpacked <= MAX_UNPACKED
    with zipfile.ZipFile(build_package(REPO, tmp_path)) as plain:
        tree = {info.filename for info in plain.infolist()}
    assert {n for n in names if not n.startswith("wheels/")} == tree  # same sources as `make package`
    wheels = sorted(n.removeprefix("wheels/") for n in names if n.startswith("wheels/"))
    lock = LOCK.read_text()
    assert len(wheels) == len(needed(lock, arch))
    lines = [line for line in requirements.splitlines() if not line.startswith("#")]
    assert lines[:2] == ["--no-index", "--find-links ./wheels"]
    assert parse_lock("\n".join(lines[2:])) == parse_lock(lock)  # the lock's exact pins


def test_checksum_file_matches_the_packages(dist):
    (sums,) = dist.glob("*-offline.sha256")
    listed = dict(reversed(line.split("  ")) for line in sums.read_text().splitlines())
    assert sorted(listed) == sorted(_package(dist, arch).name for arch in ARCHES)
    for name, digest in listed.items():
        assert hashlib.sha256((dist / name).read_bytes()).hexdigest() == digest


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory) -> Path:
    """The amd64 package built again from the same tree and the cached wheels."""
    return build_offline("amd64", tmp_path_factory.mktemp("rebuilt"))


def test_signed_offline_package_verifies_and_a_changed_wheel_does_not(rebuilt, tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private, public = tmp_path / "key.pem", tmp_path / "key.public.pem"
    private.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.TraditionalOpenSSL, NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(Encoding.PEM, PublicFormat.PKCS1))
    signed = Path(shutil.copy(rebuilt, tmp_path / "signed.difypkg"))
    assert check_and_sign(signed, private)
    daemon_verify(signed, public)
    tampered = tmp_path / "tampered.difypkg"
    with zipfile.ZipFile(signed) as source, zipfile.ZipFile(tampered, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.startswith("wheels/pydantic_core-"):
                data = data[:100] + bytes([data[100] ^ 1]) + data[101:]
            target.writestr(info, data)
        target.comment = source.comment
    with pytest.raises(InvalidSignature):
        daemon_verify(tampered, public)


def test_same_tree_and_wheels_give_the_same_bytes(dist, rebuilt):
    assert rebuilt.read_bytes() == _package(dist, "amd64").read_bytes()


def test_arm64_package_resolves_completely_from_its_own_wheels(dist, tmp_path):
    root = _unpack(_package(dist, "arm64"), tmp_path / "arm64")
    assert resolution_problems(root, "arm64") == []
    # The check can fail: without one native wheel the same resolution must not succeed.
    (core,) = (root / "wheels").glob("pydantic_core-*aarch64*.whl")
    core.unlink()
    (problem,) = resolution_problems(root, "arm64")
    assert "pydantic" in problem


def _uv() -> str:
    """Found the way the daemon finds it: the uv Python package of the daemon's interpreter."""
    find = "from uv._find_uv import find_uv_bin; print(find_uv_bin())"
    return subprocess.run(
        [sys.executable, "-c", find], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()


def _daemon_env(root: Path, scratch: Path) -> dict[str, str]:
    """What the daemon gives uv: VIRTUAL_ENV, PATH (3.12 on it), an own UV_CACHE_DIR; nothing else."""
    home = scratch / "home"
    home.mkdir(exist_ok=True)
    path = f"{Path(python312()).parent}:/usr/local/bin:/usr/bin:/bin"
    return {"PATH": path, "VIRTUAL_ENV": str(root / ".venv"), "UV_CACHE_DIR": str(scratch / "uv-cache"),
            "HOME": str(home)}  # fmt: skip


def _run(no_network: list[str], command: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        [*no_network, *command], cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=600
    )
    assert done.returncode == 0, f"{command[:3]} failed offline:\n{done.stdout[-2000:]}{done.stderr[-3000:]}"
    return done.stdout


def _daemon_install(no_network: list[str], root: Path, scratch: Path) -> tuple[float, float]:
    """Seconds for `uv venv` + `uv pip install`, and for the whole setup with compileall and warm-up."""
    env, uv, began = _daemon_env(root, scratch), _uv(), time.monotonic()
    _run(no_network, [uv, "venv", ".venv", "--python", "3.12"], root, env)
    _run(no_network, [uv, "pip", "install", "-r", "requirements.txt"], root, env)
    installed = time.monotonic() - began
    python = str(root / ".venv" / "bin" / "python")
    _run(no_network, [python, "-m", "compileall", "-q", "-x", r"\.venv|\.uv-cache", "."], root, env)
    _run(no_network, [python, "-c", "import dify_plugin"], root, env)  # the daemon's warm-up
    return installed, time.monotonic() - began


def test_namespace_has_no_interface_up(no_network):
    shown = subprocess.run(
        [*no_network, "ip", "-o", "link", "show", "up"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert shown.stdout.strip() == ""


def test_amd64_install_ignores_a_mirror_given_with_i(dist, no_network, tmp_path):
    """The daemon adds `-i <PIP_MIRROR_URL>` (or an auto-detected mirror): the same pins, nothing fetched."""
    root = _unpack(_package(dist, "amd64"), tmp_path / "plugin")
    env, uv = _daemon_env(root, tmp_path), _uv()
    _run(no_network, [uv, "venv", ".venv", "--python", "3.12"], root, env)
    _run(no_network, [uv, "pip", "install", "-i", MIRROR, "-r", "requirements.txt"], root, env)
    frozen = _run(no_network, [uv, "pip", "freeze"], root, env)
    wanted = {f"{pin.name}=={pin.version}" for pin in needed(LOCK.read_text(), "amd64")}
    assert {canonical(line.split("==")[0]) + "==" + line.split("==")[1] for line in frozen.split()} == wanted


def test_amd64_installs_with_no_network_and_serves_from_loopback(dist, no_network, tmp_path):
    root = _unpack(_package(dist, "amd64"), tmp_path / "plugin")
    installed, total = _daemon_install(no_network, root, tmp_path)
    print(f"\noffline install: venv + uv pip install {installed:.1f} s, all of setup {total:.1f} s")  # (-s)
    loopback_only = ["unshare", "-n", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"]
    smoke = [sys.executable, "-m", "tests.offline.namespace_smoke", str(root), str(root / ".venv/bin/python")]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = _run(loopback_only, [*smoke, str(tmp_path / "home")], REPO, env)
    result = json.loads(out.strip().splitlines()[-1])
    print(f"first heartbeat after {result['heartbeat_s']:.2f} s")
    assert result["outside"] == "ENETUNREACH"  # nothing but loopback is reachable
    assert (
        result["schema"]["model"] == "test-llm"
        and result["schema"]["model_properties"]["context_size"] == 2048
    )
    assert result["chat"] == HELLO
    assert len(result["embedding"]) == 1 and len(result["embedding"][0]) == 384
    assert result["violations"] == []
    assert "/v1/chat/completions" in result["replay_paths"] and "/v1/embeddings" in result["replay_paths"]
