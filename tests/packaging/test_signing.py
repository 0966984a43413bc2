"""Signed packages verify the way the Dify daemon verifies them, and tampering or another key does not."""

from __future__ import annotations

import json
import stat
import zipfile
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.packaging.daemon_signature import daemon_verify
from tools.packaging.package import build_package, check_and_sign, inspect_package
from tools.packaging.signing import VERIFICATION_FILE, SigningError, generate_key_pair, sign_package

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> tuple[Path, Path]:
    return generate_key_pair(tmp_path_factory.mktemp("keys") / ".signing")


@pytest.fixture(scope="module")
def other_key(tmp_path_factory) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path_factory.mktemp("other") / "other.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return path


@pytest.fixture
def unsigned(tmp_path) -> Path:
    return build_package(ROOT, tmp_path / "dist")


def _rewrite(package: Path, change) -> Path:
    """A copy with the same entries and comment, after `change(name, data) -> data`."""
    copy = package.with_name("tampered.difypkg")
    with zipfile.ZipFile(package) as source, zipfile.ZipFile(copy, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info, change(info.filename, source.read(info)))
        target.comment = source.comment
    return copy


def test_key_pair_is_pkcs1_and_the_private_half_is_private(keys):
    private, public = keys
    assert private.read_bytes().startswith(b"-----BEGIN RSA PRIVATE KEY-----")
    assert public.read_bytes().startswith(b"-----BEGIN RSA PUBLIC KEY-----")
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert serialization.load_pem_public_key(public.read_bytes()).key_size == 4096
    with pytest.raises(SigningError, match="exists already"):
        generate_key_pair(private.parent)


def test_signed_package_verifies_and_passes_inspection(unsigned, keys):
    with zipfile.ZipFile(unsigned) as archive:
        before = [(i.filename, archive.read(i)) for i in archive.infolist()]
    assert check_and_sign(unsigned, keys[0])
    daemon_verify(unsigned, keys[1])
    assert inspect_package(unsigned) == []
    with zipfile.ZipFile(unsigned) as archive:
        after = [(i.filename, archive.read(i)) for i in archive.infolist()]
        assert set(json.loads(archive.comment)) == {"signature", "time"}
    assert after[:-1] == before  # same entries, same order; the verification file comes last
    assert after[-1] == (VERIFICATION_FILE, b'{"authorized_category":"community"}')


def test_one_changed_byte_in_one_file_fails_verification(unsigned, keys):
    sign_package(unsigned, keys[0])

    def flip_last_byte(name: str, data: bytes) -> bytes:
        return data[:-1] + bytes([data[-1] ^ 1]) if name == "main.py" else data

    tampered = _rewrite(unsigned, flip_last_byte)
    assert tampered.read_bytes() != unsigned.read_bytes()
    with pytest.raises(InvalidSignature):
        daemon_verify(tampered, keys[1])
    untouched = _rewrite(unsigned, lambda _name, data: data)
    daemon_verify(untouched, keys[1])  # the rewrite itself does not break a good signature


def test_another_key_or_no_signature_fails_verification(unsigned, keys, other_key):
    with pytest.raises(json.JSONDecodeError):
        daemon_verify(unsigned, keys[1])  # unsigned: no comment at all
    sign_package(unsigned, other_key)
    with pytest.raises(InvalidSignature):
        daemon_verify(unsigned, keys[1])


def test_a_changed_time_fails_verification(unsigned, keys):
    sign_package(unsigned, keys[0])
    with zipfile.ZipFile(unsigned, "a") as archive:
        comment = json.loads(archive.comment)
        archive.comment = json.dumps({**comment, "time": comment["time"] + 1}).encode()
    with pytest.raises(InvalidSignature):
        daemon_verify(unsigned, keys[1])


def test_fixed_signing_time_gives_the_same_bytes(tmp_path, keys, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    first = sign_package(build_package(ROOT, tmp_path / "a"), keys[0]).read_bytes()
    second = sign_package(build_package(ROOT, tmp_path / "b"), keys[0]).read_bytes()
    assert first == second
    with zipfile.ZipFile(tmp_path / "a" / "xinference-0.1.0.difypkg") as archive:
        assert json.loads(archive.comment)["time"] == 1767225600


def test_unusable_keys_and_double_signing_are_refused(unsigned, keys, tmp_path):
    not_a_key = tmp_path / "nope.pem"
    not_a_key.write_text("hello")
    assert not check_and_sign(unsigned, not_a_key)
    assert not unsigned.exists()  # a package that could not be signed as asked is not left behind
    again = build_package(ROOT, tmp_path / "again")
    sign_package(again, keys[0])
    with pytest.raises(SigningError, match="already signed"):
        sign_package(again, keys[0])


def test_inspection_flags_a_broken_signature_trailer(unsigned, keys):
    sign_package(unsigned, keys[0])
    no_json = _rewrite(unsigned, lambda _n, d: d)
    with zipfile.ZipFile(no_json, "a") as archive:
        archive.comment = b"signed"
    assert any("zip comment" in p for p in inspect_package(no_json))
