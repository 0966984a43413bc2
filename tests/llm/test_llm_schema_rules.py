"""Schema features and rules: the features Dify sees follow the model's abilities and engine; the
parameter rules (sampling with max_tokens bounded by the context, Xinference names and ranges, labels
in every language, the thinking switch only for hybrid models)."""

from __future__ import annotations

import pytest
import responses

from tests.llm.schema_support import TOOLS, F, rules, schema
from tests.llm.support import add_description

# ---- 2. features from abilities --------------------------------------------------------------


@pytest.mark.parametrize(
    ("abilities", "engine", "expected"),
    [
        # STRUCTURED_OUTPUT on every chat model: enforced by vLLM/SGLang/llama.cpp, instructed elsewhere
        (["chat"], "Transformers", [F.STRUCTURED_OUTPUT]),
        (["chat", "tools"], "Transformers", [*TOOLS, F.STRUCTURED_OUTPUT]),
        (["chat", "vision"], "Transformers", [F.VISION, F.STRUCTURED_OUTPUT]),
        (["chat", "audio"], "Transformers", [F.AUDIO, F.STRUCTURED_OUTPUT]),
        (["chat", "video"], "Transformers", [F.VIDEO, F.STRUCTURED_OUTPUT]),
        (["chat", "omni"], "Transformers", [F.VISION, F.VIDEO, F.AUDIO, F.STRUCTURED_OUTPUT]),
        (["chat"], "vLLM", [F.STRUCTURED_OUTPUT]),
        (["chat"], "SGLang", [F.STRUCTURED_OUTPUT]),
        (["chat"], "llama.cpp", [F.STRUCTURED_OUTPUT]),
        (["chat"], "MLX", [F.STRUCTURED_OUTPUT]),
    ],
)
def test_features_follow_abilities_and_engine(abilities, engine, expected):
    with responses.RequestsMock() as mock:
        add_description(mock, model_ability=abilities, model_engine=engine)
        assert schema().features == expected


# ---- 3. parameter rules ------------------------------------------------------------------------


def test_parameter_rules_cover_sampling_with_max_tokens_bounded_by_the_context():
    with responses.RequestsMock() as mock:
        add_description(mock, model_engine="vLLM")
        found = rules(schema())
    assert list(found) == [
        "temperature",
        "top_p",
        "top_k",
        "min_p",
        "max_tokens",
        "presence_penalty",
        "frequency_penalty",
        "repetition_penalty",
        "seed",
        "response_format",
        "json_schema",
        "extra_body",
    ]
    assert (found["temperature"].min, found["temperature"].max) == (0, 2)
    assert (found["max_tokens"].min, found["max_tokens"].max) == (1, 2048)
    assert found["response_format"].options == ["text", "json_object", "json_schema"]
    assert found["json_schema"].type.value == "text"
    assert not any(rule.required for rule in found.values())


def test_every_rule_has_its_own_chinese_and_japanese_label_and_help():
    with responses.RequestsMock() as mock:
        add_description(mock, "test-reasoning", model_engine="vLLM")
        found = rules(schema("test-reasoning"))
    assert "enable_thinking" in found and "response_format" in found
    for name, rule in found.items():
        for text in (rule.label, rule.help):
            assert text.zh_hans and text.ja_jp, name
            # the SDK copies English into a missing language: each must be a translation, not a copy
            if name not in ("top_p", "top_k", "min_p", "json_schema"):
                assert text.en_us not in (text.zh_hans, text.ja_jp), name
    assert found["temperature"].label.zh_hans == "温度"
    assert found["repetition_penalty"].label.ja_jp == "繰り返しペナルティ"
    assert "不设置" in found["seed"].help.zh_hans


def test_new_sampling_rules_use_xinference_names_and_ranges():
    with responses.RequestsMock() as mock:
        add_description(mock)
        found = rules(schema())
    assert (found["min_p"].min, found["min_p"].max) == (0, 1)
    assert (found["repetition_penalty"].min, found["repetition_penalty"].max) == (0.01, 2)
    assert found["extra_body"].type.value == "text"


def test_thinking_switch_only_for_hybrid_models():
    with responses.RequestsMock() as mock:
        add_description(mock, "test-reasoning")
        add_description(mock, "test-llm")
        assert rules(schema("test-reasoning"))["enable_thinking"].type.value == "boolean"
        assert "enable_thinking" not in rules(schema("test-llm"))


@pytest.mark.parametrize(("context", "default"), [(32768, 2048), (2049, 2048), (1024, 1024)])
def test_max_tokens_defaults_to_2048_or_the_whole_context_when_smaller(context, default):
    with responses.RequestsMock() as mock:
        add_description(mock, context_length=context)
        found = rules(schema())
    assert (found["max_tokens"].default, found["max_tokens"].max) == (default, context)


def test_a_generate_only_model_gets_no_reasoning_effort_even_in_a_family_that_reads_it():
    """/v1/completions renders no chat template, so no template would read the level."""
    with responses.RequestsMock() as mock:
        add_description(mock, "test-llm-base", model_family="gpt-oss")
        add_description(mock, "test-llm", model_family="gpt-oss")
        assert "reasoning_effort" not in rules(schema("test-llm-base"))
        assert rules(schema("test-llm"))["reasoning_effort"].options == ["low", "medium", "high"]
