"""Credentials left in packaged text files.

Two tiers, as the Marketplace scans: a token whose shape names its vendor (OpenAI-style `sk-…`,
GitHub, Slack, AWS, a JWT, a PEM private key) is an error by itself. `name = value` where the name
sounds like a secret is judged by its value: numbers, booleans and placeholders are dropped, and so
is an unquoted value in code (an expression that reads a credential); a value with the alphabet and
entropy of key material (detect-secrets' floors: 3.0 bits/char for hex, 4.5 otherwise, ≥ 12
characters) is an error, anything else a note for the reviewer. Values are never printed whole.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from tools.marketplace.findings import ERROR, WARNING, Finding, Package, findings

MAX_BYTES = 1024 * 1024
SKIP_SUFFIXES = (
    ".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".ico", ".avif", ".mp3", ".mp4", ".mov", ".webm",
    ".pdf", ".zip", ".gz", ".tgz", ".tar", ".xz", ".bz2", ".7z", ".rar", ".whl", ".so", ".dylib", ".exe",
    ".ttf", ".otf", ".woff", ".woff2", ".eot",
)  # fmt: skip
VENDOR_TOKENS = {
    "OpenAI-style API key": re.compile(r"\bsk-[A-Za-z0-9_-]{20,}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9_]{20,}\b"),
    "Slack token": re.compile(r"\bxox[baprs]-[A-Za-z0-9-]{10,}\b"),
    "AWS access key id": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "JWT": re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b"),
}
PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
CREDENTIAL_NAMES = (  # names that sound like a credential
    r"api[_-]?key|access[_-]?key|access[_-]?token|auth[_-]?token|client[_-]?secret|password|private[_-]?key"
    r"|secret|token"
)
ASSIGNMENT = re.compile(
    rf"(?i)(?P<name>[A-Z0-9_.-]*(?:{CREDENTIAL_NAMES})[A-Z0-9_.-]*)\s*[:=]\s*(?P<value>\"[^\"]*\"|'[^']*'|[^\"',\s#}}]+)"
)
CODE_SUFFIXES = (".py", ".pyi", ".js", ".mjs", ".jsx", ".ts", ".tsx", ".go", ".rs", ".java", ".rb", ".php")
NOT_SECRET = re.compile(r"(?i)^(?:-?\d+(?:\.\d+)?|true|false|yes|no|on|off)$")
HEX = re.compile(r"^[0-9a-fA-F]+$")
TOKEN_ALPHABET = re.compile(r"^[A-Za-z0-9+/=_.-]+$")
PLACEHOLDERS = {
    "", "changeme", "dummy", "example", "fake", "none", "null", "placeholder", "test", "todo", "xxx", "xxxx",
    "your-api-key", "your_api_key", "your-key", "your-secret", "your-token",
}  # fmt: skip


def _placeholder(value: str) -> bool:
    low = value.lower()
    if low in PLACEHOLDERS or (low.startswith("<") and low.endswith(">")) or low.startswith("${"):
        return True
    if "your" in low and any(word in low for word in ("key", "secret", "token", "password")):
        return True
    return set(low) <= set("x*-_")


def _entropy(value: str) -> float:
    return -sum(n / len(value) * math.log2(n / len(value)) for n in Counter(value).values())


def _looks_secret(value: str) -> bool:
    if len(value) < 12 or value.startswith(("http://", "https://", "/", "./", "../")):
        return False
    if HEX.match(value):
        return _entropy(value) >= 3.0
    return bool(TOKEN_ALPHABET.match(value)) and _entropy(value) >= 4.5


def _masked(value: str) -> str:
    return "***" if len(value) <= 8 else f"{value[:4]}…{value[-4:]}"


def scan_line(where: str, line: str) -> tuple[list[str], list[str]]:
    errors, warnings = [], []
    if PRIVATE_KEY.search(line):
        errors.append(f"{where}: a private key block")
    vendor = [
        f"{where}: {kind} {_masked(m.group(0))}" for kind, p in VENDOR_TOKENS.items() if (m := p.search(line))
    ]
    if vendor:
        return errors + vendor, warnings
    code = where.split(":", 1)[0].lower().endswith(CODE_SUFFIXES)
    for match in ASSIGNMENT.finditer(line):
        raw = match.group("value")
        value = raw.strip().strip("\"'")
        if not value or _placeholder(value) or NOT_SECRET.match(value) or (code and raw[0] not in "\"'"):
            continue
        if _looks_secret(value):
            errors.append(
                f"{where}: `{match.group('name')}` is assigned a secret-like value {_masked(value)}"
            )
        else:
            warnings.append(f"{where}: `{match.group('name')}` looks like a secret field (review)")
    return errors, warnings


def secrets_rule(pkg: Package) -> list[Finding]:
    errors, warnings = [], []
    for name, path in pkg.files():
        if name.lower().endswith(SKIP_SUFFIXES):
            continue
        if path.stat().st_size > MAX_BYTES:
            warnings.append(f"{name}: larger than 1 MiB, not scanned")
            continue
        data = path.read_bytes()
        if b"\0" in data[:4096]:
            continue
        for number, line in enumerate(data.decode("utf-8", errors="ignore").splitlines(), start=1):
            line_errors, line_warnings = scan_line(f"{name}:{number}", line)
            errors += line_errors
            warnings += line_warnings
    return findings("secrets", ERROR, errors) + findings("secrets", WARNING, warnings)
