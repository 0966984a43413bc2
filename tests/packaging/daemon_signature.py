"""Our own re-implementation of the Dify daemon's signature check, for tests.

As decoder/verifier.go does it (runtime reference §4.4): the SHA-256 of every entry's content in
archive order, then the decimal `time` from the zip comment; an RSA PKCS#1 v1.5 / SHA-256 signature
over those bytes, checked against a PKCS#1 "RSA PUBLIC KEY" PEM (the only form the daemon loads).
"""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding


def daemon_verify(package: Path, public_pem: Path) -> None:
    """Raise unless the daemon would accept the package's signature with this public key."""
    pem = public_pem.read_bytes()
    if not pem.startswith(b"-----BEGIN RSA PUBLIC KEY-----"):
        raise ValueError("the daemon reads PKCS#1 public keys only")
    key = serialization.load_pem_public_key(pem)
    with zipfile.ZipFile(package) as archive:
        comment = json.loads(archive.comment)  # an unsigned package has none: the daemon fails too
        digests = b"".join(hashlib.sha256(archive.read(i)).digest() for i in archive.infolist())
    message = digests + str(comment["time"]).encode()
    signature = base64.b64decode(comment["signature"])
    key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
