"""The recordings are what the server sent (tests/fixtures/xinference-4.1.0/README.md): dumps of the
re-recorded groups are complete HTTP responses, and the authon_* bodies carry nothing curl added."""

from __future__ import annotations

import json

import pytest

from tests.helpers import FIXTURES, http_fixture

RECORDED_DUMPS = sorted(
    p.name for prefix in ("err_", "auth_", "noauth_") for p in FIXTURES.glob(f"{prefix}*.txt")
)


def test_the_re_recorded_groups_are_all_there():
    assert len(RECORDED_DUMPS) == 33  # err_01-20, auth_01-12, noauth_models_empty


@pytest.mark.parametrize("name", RECORDED_DUMPS)
def test_a_dump_is_the_whole_response_as_received(name):
    raw = (FIXTURES / name).read_bytes()
    head, separator, _ = raw.partition(b"\r\n\r\n")
    assert separator and head.startswith(b"HTTP/1.1 "), "a status line and a CRLF blank line"
    assert b"\n" not in head.replace(b"\r\n", b""), "every header line ends in CRLF"
    _status, headers, _body = http_fixture(name)  # checks the body against content-length
    assert {"date", "server", "content-length", "content-type"} <= headers.keys(), "no header was trimmed"


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("authon_*.json")), ids=lambda p: p.name)
def test_authon_bodies_are_plain_json(path):
    json.loads(path.read_bytes())  # a curl -w trailer after the JSON would fail here
