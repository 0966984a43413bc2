"""What the plugin process remembers between calls: one bounded TTL map (injectable clock) behind the
description cache, the schema cache and the streamed-tools refusal memo, and one
`reset_process_state()` that forgets every process-wide store."""

import pytest
import responses

from models._xinference import sessions, tokens
from models._xinference.credentials import parse_credentials
from models._xinference.model_info import DESCRIPTIONS, DescriptionCache, ModelDescription
from models._xinference.process_state import TTLMap, reset_process_state
from models._xinference.schemas import SCHEMAS, SchemaCache
from models.llm.llm import STREAMED_TOOLS_REFUSED
from tests.helpers import raw_credentials


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_lives_for_its_ttl_and_not_a_moment_longer():
    clock = Clock()
    ttl_map = TTLMap(max_entries=4, clock=clock)
    ttl_map.put("a", 1, ttl=10)
    clock.now += 9.9
    assert ttl_map.get("a") == 1
    clock.now += 0.1
    assert ttl_map.get("a", "gone") == "gone"
    assert len(ttl_map) == 0  # the expired entry was dropped, not kept


def test_the_oldest_entry_goes_first_when_the_map_is_full():
    ttl_map = TTLMap(max_entries=2, clock=Clock())
    ttl_map.put("a", 1, ttl=10)
    ttl_map.put("b", 2, ttl=10)
    ttl_map.put("a", 3, ttl=10)  # putting again makes it the newest
    ttl_map.put("c", 4, ttl=10)
    assert (ttl_map.get("a"), ttl_map.get("b"), ttl_map.get("c")) == (3, None, 4)
    assert len(ttl_map) == 2


def test_the_description_cache_is_bounded():
    cache = DescriptionCache(max_entries=3)
    for i in range(10):
        cache.get(("http://s", f"m{i}", ""), lambda i=i: ModelDescription(uid=f"m{i}", model_type="llm"))
    assert len(cache) == 3
    assert DESCRIPTIONS._entries.max_entries == 1024  # the process-wide bound the docstring states


def test_a_cached_schema_expires_on_the_injected_clock():
    clock = Clock()
    cache = SchemaCache(ttl=10, clock=clock)
    builds = []
    build = lambda: builds.append(1)  # noqa: E731 - a build that gives no schema is cached too
    cache.get("llm", "m", {"k": "v"}, build)
    cache.get("llm", "m", {"k": "v"}, build)
    assert len(builds) == 1
    clock.now += 10
    cache.get("llm", "m", {"k": "v"}, build)
    assert len(builds) == 2


def test_the_stores_built_with_the_process_defaults_keep_the_documented_bounds():
    """The table in process_state.py: descriptions 1,024 entries, a failed look-up 10 s; schemas 256
    entries, 10 s (the process-wide stores are built with these defaults)."""
    clock = Clock()
    descriptions = DescriptionCache(clock=clock)
    for i in range(1025):
        descriptions.get(("s", f"m{i}", ""), lambda i=i: ModelDescription(uid=f"m{i}", model_type="llm"))
    assert len(descriptions) == 1024 and descriptions.peek(("s", "m0", "")) is None

    def down():
        raise ConnectionError("down")

    with pytest.raises(ConnectionError):
        descriptions.get(("s", "down", ""), down)
    clock.now += 9.9
    with pytest.raises(ConnectionError):  # remembered: not fetched again
        descriptions.get(("s", "down", ""), lambda: pytest.fail("fetched within 10 s"))
    clock.now += 0.1
    assert descriptions.get(("s", "down", ""), lambda: ModelDescription(uid="d", model_type="llm")).uid == "d"

    schemas = SchemaCache(clock=clock)
    for i in range(257):
        schemas.get("llm", f"m{i}", {}, lambda: None)
    assert len(schemas._entries) == 256
    schemas.get("llm", "x", {}, lambda: "built")
    clock.now += 9.9
    assert schemas.get("llm", "x", {}, lambda: "rebuilt") == "built"
    clock.now += 0.1
    assert schemas.get("llm", "x", {}, lambda: "rebuilt") == "rebuilt"


@responses.activate
def test_reset_forgets_every_process_wide_store():
    creds = parse_credentials(raw_credentials())
    session = sessions.pooled_session(creds)
    DESCRIPTIONS.get(("s", "u", ""), lambda: ModelDescription(uid="u", model_type="llm"))
    SCHEMAS.get("llm", "m", {}, lambda: None)
    STREAMED_TOOLS_REFUSED.put(("s", "u"), True, 600)
    tokens.estimate_tokens("some words to price")

    reset_process_state()

    assert DESCRIPTIONS.peek(("s", "u", "")) is None
    assert len(SCHEMAS._entries) == 0
    assert STREAMED_TOOLS_REFUSED.get(("s", "u")) is None
    assert len(tokens._PIECE_COSTS) == 0
    assert sessions.pooled_session(creds) is not session
    assert parse_credentials(raw_credentials()) is not creds  # the parsed-form memo is empty too


@pytest.mark.parametrize("store", ["descriptions", "schemas", "refusals"])
def test_the_three_ttl_stores_share_the_one_map(store):
    holder = {"descriptions": DESCRIPTIONS, "schemas": SCHEMAS, "refusals": STREAMED_TOOLS_REFUSED}[store]
    assert isinstance(holder, TTLMap) or any(isinstance(v, TTLMap) for v in vars(holder).values())


def test_credentials_equal_only_across_types_get_schemas_of_their_own():
    """True == 1 == 1.0 in Python, but a switch stored as True and a number stored as 1 are different
    forms: each gets its own schema."""
    cache, built = SchemaCache(), []
    for value in (True, 1, 1.0):
        cache.get("llm", "m", {"k": value}, lambda value=value: built.append(value))
    assert built == [True, 1, 1.0]
