"""What a plugin process that runs for months keeps per credential is bounded: the model-description
cache, the pooled sessions (each closed when evicted, so its sockets go too), the parsed URLs and the
built schemas. bench/uptime.py measures the same with 2,000 distinct credentials."""

from __future__ import annotations

import contextlib

import pytest

from models._xinference import sessions
from models._xinference.credentials import parse_credentials
from models._xinference.model_info import DescriptionCache, ModelDescription
from models._xinference.schemas import SchemaCache
from tests.helpers import raw_credentials

pytestmark = pytest.mark.in_process  # no plugin process: run by make test-fast too


def test_description_cache_keeps_at_most_max_entries_newest_first():
    cache = DescriptionCache(max_entries=3)
    for i in range(10):
        cache.get(
            ("http://s", f"uid-{i}", ""), lambda i=i: ModelDescription(uid=f"uid-{i}", model_type="llm")
        )
    assert len(cache) == 3
    assert cache.peek(("http://s", "uid-9", "")) is not None and cache.peek(("http://s", "uid-0", "")) is None


def test_failures_count_towards_the_bound_too():
    cache = DescriptionCache(max_entries=2)

    def fail():
        raise RuntimeError("down")

    for i in range(5):
        with contextlib.suppress(RuntimeError):
            cache.get(("http://s", f"uid-{i}", ""), fail)
    assert len(cache) == 2


def test_pooled_sessions_are_bounded_and_evicted_ones_closed(monkeypatch):
    monkeypatch.setattr(sessions, "_sessions", {})

    def session(i: int):
        return sessions.pooled_session(parse_credentials(raw_credentials(api_key=f"sk-tenant-{i}")))

    first = session(0)
    first.get_adapter("http://").poolmanager.connection_from_url("http://127.0.0.1:1")  # a pool to close
    assert first.get_adapter("http://").poolmanager.pools.keys()
    for i in range(1, sessions._MAX_POOLED_SESSIONS + 5):
        session(i)
    assert len(sessions._sessions) == sessions._MAX_POOLED_SESSIONS
    assert first not in sessions._sessions.values()
    assert not first.get_adapter("http://").poolmanager.pools.keys()  # closed: its sockets went with it


def test_schema_cache_is_bounded():
    cache = SchemaCache(max_entries=4)
    for i in range(20):
        cache.get("llm", "m", {"server_url": f"http://s{i}"}, lambda: None)
    assert len(cache._entries) <= 4


def test_a_remembered_failure_raised_again_and_again_does_not_grow():
    """Raising one stored exception object again prepends every raise's frames to its traceback (19 KB a
    call against a refused server, bench/uptime.py): each raise gets a copy, same type, message and fields."""
    from models._xinference.errors import status_error

    cache = DescriptionCache()
    original = status_error(400, "Bad Request", "Model not found", "the description of 'm'")
    original.missing_model_uid = "m"

    def fail():
        raise original

    raised = []
    for _ in range(200):
        try:
            cache.get(("http://s", "m", ""), fail)
        except Exception as exc:
            raised.append(exc)
    depth, tb = 0, raised[-1].__traceback__
    while tb:
        depth, tb = depth + 1, tb.tb_next
    assert depth < 5
    last = raised[-1]
    assert type(last) is type(original) and str(last) == str(original)
    assert last.status_code == 400 and last.missing_model_uid == "m"
