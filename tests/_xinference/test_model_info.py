"""Model descriptions (typed from real recordings) and their TTL cache."""

import threading

import pytest
import responses
from dify_plugin.errors.model import InvokeBadRequestError, InvokeConnectionError

from models._xinference.client import XinferenceClient
from models._xinference.credentials import parse_credentials
from models._xinference.model_info import (
    DESCRIPTIONS,
    DescriptionCache,
    ModelDescription,
    parse_abilities,
    takes_images,
)
from tests.helpers import API_KEY, SERVER, fixture_json, http_fixture, raw_credentials


@pytest.mark.parametrize(
    ("fixture", "model_type", "abilities", "context", "max_tokens", "dims", "dify_type"),
    [
        ("llm_04_get_model.json", "llm", {"generate", "chat", "tools"}, 2048, None, None, "LLM"),
        ("llm_15_get_model_generate_only.json", "llm", {"generate"}, 2048, None, None, "LLM"),
        ("embed_07_get_model.json", "embedding", {"embed"}, None, 256, 384, "Text Embedding"),
        ("rerank_07_get_model.json", "rerank", {"rerank"}, None, None, None, "Rerank"),
        (
            "reasoning_A02_get_model.json",
            "llm",
            {"generate", "chat", "tools", "reasoning", "hybrid"},
            2048,
            None,
            None,
            "LLM",
        ),
    ],
)
def test_recorded_descriptions_parse(fixture, model_type, abilities, context, max_tokens, dims, dify_type):
    d = ModelDescription.from_json("uid", fixture_json(fixture))
    assert (d.model_type, set(d.abilities), d.context_length, d.max_tokens, d.dimensions, d.dify_type) == (
        model_type,
        abilities,
        context,
        max_tokens,
        dims,
        dify_type,
    )


def test_engine_and_family_are_kept():
    d = ModelDescription.from_json("uid", fixture_json("llm_04_get_model.json"))
    assert d.engine == "Transformers" and d.family == "qwen2.5-instruct"


def test_sizes_the_server_gives_as_zero_or_less_count_as_not_given():
    """A 0 or negative context length would make every prompt "too long": the schema's defaults apply."""
    sizes = {"model_type": "llm", "context_length": 0, "max_tokens": -1, "dimensions": "1"}
    d = ModelDescription.from_json("uid", sizes)
    assert (d.context_length, d.max_tokens, d.dimensions) == (None, None, 1)


def test_fields_the_server_leaves_out_read_as_empty():
    d = ModelDescription.from_json("uid", {})
    assert (d.model_type, d.model_name, d.family, d.engine, d.abilities) == ("", "", "", "", frozenset())


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["audio2text"], {"audio2text"}),
        ("audio-to-text", {"audio2text"}),
        ("text-to-audio", {"text2audio"}),
        (None, set()),
        (42, set()),
        (["chat", "", None], {"chat"}),
    ],
)
def test_abilities_as_list_or_old_string(value, expected):
    assert set(parse_abilities(value)) == expected


def test_audio_models_point_to_the_right_dify_type():
    stt = ModelDescription.from_json("w", {"model_type": "audio", "model_ability": "audio-to-text"})
    tts = ModelDescription.from_json("t", {"model_type": "audio", "model_ability": ["text2audio"]})
    img = ModelDescription.from_json("i", {"model_type": "image", "model_ability": ["text2image"]})
    assert (stt.dify_type, tts.dify_type) == ("Speech2text", "TTS")
    assert "no image model type" in img.dify_type


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_cache_hits_until_ttl_then_refetches():
    clock = FakeClock()
    cache = DescriptionCache(ttl=60, clock=clock)
    fetches = []

    def fetch():
        fetches.append(1)
        return ModelDescription(uid="u", model_type="llm")

    key = ("http://s", "u", "")
    cache.get(key, fetch)
    clock.now += 59
    cache.get(key, fetch)
    assert len(fetches) == 1
    clock.now += 2
    cache.get(key, fetch)
    assert len(fetches) == 2


def test_the_process_cache_keeps_a_description_five_minutes():
    """README: "the model description is cached in the plugin process for five minutes"."""
    clock = FakeClock()
    cache = DescriptionCache(clock=clock)  # the defaults the process-wide cache uses
    fetches = []
    key = ("http://s", "u", "")
    fetch = lambda: fetches.append(1) or ModelDescription(uid="u", model_type="llm")  # noqa: E731
    cache.get(key, fetch)
    clock.now += 299.9
    cache.get(key, fetch)
    assert len(fetches) == 1
    clock.now += 0.1  # five minutes to the moment
    cache.get(key, fetch)
    assert len(fetches) == 2
    assert DESCRIPTIONS.ttl == 300


def test_cache_keys_separate_servers_uids_and_keys():
    """Each key differs from the first in one part only; a cache that ignored that part would hand
    back the first key's entry instead of fetching (and later returning) its own."""
    cache = DescriptionCache()
    keys = [("http://a", "u", ""), ("http://b", "u", ""), ("http://a", "v", ""), ("http://a", "u", "k1")]
    fetched = []
    for number, key in enumerate(keys):
        got = cache.get(
            key, lambda n=number: fetched.append(n) or ModelDescription(uid="u", model_type=f"t{n}")
        )
        assert got.model_type == f"t{number}", key
    assert fetched == [0, 1, 2, 3]  # four misses: no key was taken for another
    assert [cache.get(key, lambda: pytest.fail("a hit was expected")).model_type for key in keys] == [
        "t0",
        "t1",
        "t2",
        "t3",
    ]


def test_failures_are_remembered_briefly():
    clock = FakeClock()
    cache = DescriptionCache(failure_ttl=10, clock=clock)
    calls = []

    def failing():
        calls.append(1)
        raise InvokeConnectionError("down")

    key = ("http://s", "u", "")
    for _ in range(3):
        with pytest.raises(InvokeConnectionError):
            cache.get(key, failing)
    assert len(calls) == 1
    clock.now += 11
    assert cache.get(key, lambda: ModelDescription(uid="u", model_type="llm")).model_type == "llm"


def test_concurrent_callers_are_not_serialised_on_io():
    cache = DescriptionCache()
    inside = threading.Barrier(2, timeout=5)

    def slow_fetch():
        inside.wait()  # both fetches must be in flight at the same time, or this times out
        return ModelDescription(uid="u", model_type="llm")

    results = []
    threads = [
        threading.Thread(target=lambda k=k: results.append(cache.get(k, slow_fetch)))
        for k in [("http://a", "u", ""), ("http://b", "u", "")]
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2


def client(**kw):
    return XinferenceClient(parse_credentials(raw_credentials(**kw)))


def test_describe_is_cached_per_process_and_fresh_bypasses_it():
    with responses.RequestsMock() as mock:
        mock.get(SERVER + "/v1/models/test-llm", json=fixture_json("llm_04_get_model.json"))
        assert client().describe().has("chat")
        assert client().describe().has("tools")  # a new client (new invocation) still hits the cache
        assert len(mock.calls) == 1
        client().describe(fresh=True)
        assert len(mock.calls) == 2
        client(api_key=API_KEY).describe()  # another key is another cache entry
        assert len(mock.calls) == 3


def test_unknown_uid_says_so_plainly():
    status, _headers, body = http_fixture("err_01_get_unknown_model.txt")
    with responses.RequestsMock() as mock:
        mock.get(
            SERVER + "/v1/models/no-such-model", status=status, body=body, content_type="application/json"
        )
        with pytest.raises(InvokeBadRequestError, match="No model with UID 'no-such-model' is running"):
            client(model_uid="no-such-model").describe()


def test_a_404_on_inference_drops_the_cached_description():
    status, _, body = http_fixture("err_02_chat_unknown_model.txt")
    with responses.RequestsMock() as mock:
        mock.get(SERVER + "/v1/models/test-llm", json=fixture_json("llm_04_get_model.json"))
        mock.post(SERVER + "/v1/chat/completions", status=status, body=body, content_type="application/json")
        c = client()
        c.describe()
        assert c.cached_description() is not None
        with pytest.raises(InvokeBadRequestError):
            c.post_json("/v1/chat/completions", {})
        assert c.cached_description() is None


@pytest.mark.parametrize(
    ("model_type", "abilities", "expected"),
    [
        ("embedding", ["embed", "embed_vision"], True),  # 4.x
        ("embedding", ["embed", "vision"], True),  # 3.4
        ("embedding", ["embed", "rerank_vision"], False),
        ("embedding", ["embed"], False),
        ("embedding", None, False),  # ≤ 3.3: nothing reported
        ("rerank", ["rerank", "rerank_vision", "rerank_video"], True),
        ("rerank", ["rerank", "vision"], True),
        ("rerank", ["rerank", "embed_vision"], False),
        ("llm", ["chat", "vision"], False),  # LLM vision is the LLM schema's business
    ],
)
def test_takes_images(model_type, abilities, expected):
    description = ModelDescription.from_json("m", {"model_type": model_type, "model_ability": abilities})
    assert takes_images(description) is expected
