"""Shared test helpers: recorded Xinference responses and credential dicts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures" / "xinference-4.1.0"
SERVER = "http://xinference.test:9997"
API_KEY = "xf-SECRET-MARKER-7f3c9a"  # unique, so a leak of it is easy to detect


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_json(name: str) -> Any:
    return json.loads(fixture_bytes(name))


def http_fixture(name: str) -> tuple[int, dict[str, str], bytes]:
    """Parse a `curl -i` dump: (status, headers, body); the body must be exactly content-length long."""
    return parse_http_dump(fixture_bytes(name), name)


def release_fixture_bytes(release: str, name: str) -> bytes:
    """A recording of another release (tests/fixtures/xinference-<release>, by make fixtures-compat)."""
    return (FIXTURES.parent / f"xinference-{release}" / name).read_bytes()


def release_fixture_json(release: str, name: str) -> Any:
    return json.loads(release_fixture_bytes(release, name))


def release_http_fixture(release: str, name: str) -> tuple[int, dict[str, str], bytes]:
    return parse_http_dump(release_fixture_bytes(release, name), f"{release}/{name}")


def parse_http_dump(raw: bytes, name: str = "dump") -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name_, _, value = line.partition(":")
        headers[name_.strip().lower()] = value.strip()
    if "content-length" in headers:
        assert int(headers["content-length"]) == len(body), f"{name}: body length differs from content-length"
    return status, headers, body


def raw_credentials(**overrides: Any) -> dict[str, Any]:
    """A credentials dict as given, for unit tests of parsing and requests: strings, the way Dify stores
    text fields. Not run through Dify's form rule (a switch False, which Dify would drop, stays here):
    tests that mean "as Dify stores it" use tests/dify_form.py."""
    creds: dict[str, Any] = {
        "server_url": SERVER,
        "model_uid": "test-llm",
        "invoke_timeout": "5",
        "max_retries": "0",
    }
    creds.update(overrides)
    return {k: v for k, v in creds.items() if v is not None}
