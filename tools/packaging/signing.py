"""Sign a .difypkg so the Dify daemon's third-party signature verification accepts it.

The daemon (pkg/plugin_packager/decoder/verifier.go) concatenates the SHA-256 of every entry's
content in archive order, appends the decimal `time` from the zip comment and checks an RSA
PKCS#1 v1.5 / SHA-256 signature over those bytes. Signing therefore rewrites the archive with the
same entries, appends `.verification.dify.json` last (it is hashed too) and writes the comment
`{"signature":"<base64>","time":<unix seconds>}`. The daemon loads public keys only as PKCS#1 PEM
("RSA PUBLIC KEY"), so `generate` writes that form.

  python -m tools.packaging.signing generate DIR   # DIR/xinference.private.pem + DIR/xinference.public.pem
  python -m tools.packaging.signing sign PKG KEY

`cryptography` is a build dependency only (requirements-dev.txt); it is imported on use so that
building an unsigned package does not need it. SOURCE_DATE_EPOCH, when set, fixes the signing time,
and then the same package and key give the same signed bytes (PKCS#1 v1.5 has no randomness).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import logging
import os
import sys
import time
import zipfile
from pathlib import Path

from tools.packaging.archive import write_archive

log = logging.getLogger("tools.packaging.signing")

VERIFICATION_FILE = ".verification.dify.json"
# "community": the daemon reserves "langgenius" for its own plugins (bundle installs refuse impostors).
VERIFICATION = json.dumps({"authorized_category": "community"}, separators=(",", ":")).encode()
KEY_BITS = 4096  # what `dify signature generate` writes
KEY_NAME = "xinference"


class SigningError(Exception):
    """The key cannot be used or the package cannot be signed."""


def signed_message(hashes: list[bytes], signed_at: int) -> bytes:
    """The bytes the daemon verifies: each entry's SHA-256 digest, then the time in decimal."""
    return b"".join(hashes) + str(signed_at).encode()


def _load_private_key(path: Path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise SigningError(f"{path}: not an unencrypted PEM private key ({exc})") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise SigningError(f"{path}: the daemon verifies RSA signatures only; this is another key type")
    return key


def _signing_time() -> int:
    fixed = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    return int(fixed) if fixed.isdigit() and int(fixed) > 0 else int(time.time())


def sign_package(path: Path, key_path: Path) -> Path:
    """Rewrite the package at path, signed with the RSA private key at key_path."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    key = _load_private_key(key_path)
    with zipfile.ZipFile(path) as archive:
        if archive.comment:
            raise SigningError(f"{path}: already signed")
        entries = [(info.filename, archive.read(info)) for info in archive.infolist()]
    entries.append((VERIFICATION_FILE, VERIFICATION))
    signed_at = _signing_time()
    message = signed_message([hashlib.sha256(data).digest() for _, data in entries], signed_at)
    signature = key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    comment = json.dumps(
        {"signature": base64.b64encode(signature).decode(), "time": signed_at}, separators=(",", ":")
    )
    return write_archive(path, entries, comment.encode())


def signature_problems(archive: zipfile.ZipFile) -> list[str]:
    """An unsigned archive has no comment; a signed one has the daemon's comment and trailer."""
    if not archive.comment:
        return []
    try:
        comment = json.loads(archive.comment)
        ok = isinstance(comment["signature"], str) and base64.b64decode(comment["signature"], validate=True)
        ok = ok and isinstance(comment["time"], int) and comment["time"] > 0
    except (ValueError, KeyError, TypeError):
        ok = False
    problems = [] if ok else ['zip comment is not the daemon\'s {"signature": <base64>, "time": <int>}']
    if archive.infolist()[-1].filename != VERIFICATION_FILE:
        problems.append(f"signed, but {VERIFICATION_FILE} is not the last entry")
    return problems


def generate_key_pair(folder: Path) -> tuple[Path, Path]:
    """Write a new PKCS#1 key pair; refuses to overwrite one (packages signed with it would orphan)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private, public = folder / f"{KEY_NAME}.private.pem", folder / f"{KEY_NAME}.public.pem"
    if private.exists() or public.exists():
        raise SigningError(f"{private} or {public} exists already; move it away to make a new pair")
    folder.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,  # "RSA PRIVATE KEY", like the dify CLI
        serialization.NoEncryption(),
    )
    descriptor = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(private_pem)
    public.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
    )
    return private, public


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.packaging.signing", description=__doc__.splitlines()[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("generate", help="write a key pair").add_argument("folder", type=Path)
    sign = commands.add_parser("sign", help="sign a .difypkg in place")
    sign.add_argument("package", type=Path)
    sign.add_argument("key", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        if args.command == "generate":
            private, public = generate_key_pair(args.folder)
            log.info("wrote %s (keep it secret) and %s (give it to the Dify daemon)", private, public)
        else:
            sign_package(args.package, args.key)
            log.info("signed %s", args.package)
    except SigningError as exc:
        log.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
