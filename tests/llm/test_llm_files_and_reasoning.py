"""Issue 27, 3-5: the Video / Audio / Document overrides decide the features Dify keeps files for (and what is
sent); Reasoning effort appears only for the families whose templates read it and is sent as each expects;
earlier reasoning is replayed as `reasoning_content` only for the templates that read it nowhere else."""

from __future__ import annotations

import pytest
import responses
import yaml
from dify_plugin.entities.model.message import (
    AssistantPromptMessage,
    DocumentPromptMessageContent,
    TextPromptMessageContent,
    ToolPromptMessage,
    UserPromptMessage,
    VideoPromptMessageContent,
)
from dify_plugin.errors.model import InvokeBadRequestError

from models._xinference.model_info import DESCRIPTIONS
from models._xinference.schemas import SCHEMAS
from tests.helpers import FIXTURES, fixture_json
from tests.llm.messages_support import call
from tests.llm.schema_support import F, rules, schema
from tests.llm.support import CHAT_URL, WEATHER_TOOL, add_description, invoke, sent_bodies


def _features(abilities, **creds):
    DESCRIPTIONS.clear()
    SCHEMAS.clear()
    with responses.RequestsMock() as mock:
        add_description(mock, model_ability=abilities)
        return schema(**creds).features


def _body(messages, *, params=None, tools=None, drop=(), **description):
    DESCRIPTIONS.clear()
    SCHEMAS.clear()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        add_description(mock, drop=drop, **description)
        mock.post(CHAT_URL, json=fixture_json("llm_05_chat_nonstream.json"))
        invoke("test-llm", messages, params, stream=False, tools=tools)
        (body,) = sent_bodies(mock)
    return body


# ---- 3. Video / Audio / Document ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("abilities", "creds", "present", "absent"),
    [
        (["chat", "vision"], {}, [], [F.VIDEO, F.AUDIO, F.DOCUMENT]),  # Qwen3-VL on 4.1: vision only
        (["chat", "vision"], {"video": "supported"}, [F.VIDEO], [F.AUDIO, F.DOCUMENT]),
        (["chat", "omni"], {}, [F.VIDEO, F.AUDIO], [F.DOCUMENT]),
        (["chat", "omni"], {"video": "unsupported", "audio": "unsupported"}, [], [F.VIDEO, F.AUDIO]),
        (["chat", "audio"], {}, [F.AUDIO], [F.VIDEO]),
        (["chat"], {"audio": "supported", "document": "supported"}, [F.AUDIO, F.DOCUMENT], [F.VIDEO]),
        (["chat"], {"document": "auto"}, [], [F.DOCUMENT]),
    ],
)
def test_media_overrides_decide_the_features(abilities, creds, present, absent):
    features = _features(abilities, **creds)
    assert all(f in features for f in present) and not any(f in features for f in absent)


def test_a_video_reaches_the_server_once_the_override_says_supported():
    video = VideoPromptMessageContent(format="mp4", url="http://files.local/v.mp4", mime_type="video/mp4")
    message = UserPromptMessage(content=[TextPromptMessageContent(data="What happens?"), video])
    with pytest.raises(InvokeBadRequestError, match="set Video input to Supported"):
        _body([message], model_ability=["chat", "vision"])
    DESCRIPTIONS.clear()
    SCHEMAS.clear()
    with responses.RequestsMock() as mock:
        add_description(mock, model_ability=["chat", "vision"])
        mock.post(CHAT_URL, json=fixture_json("llm_05_chat_nonstream.json"))
        invoke("test-llm", [message], stream=False, video="supported")
        (body,) = sent_bodies(mock)
    assert body["messages"][0]["content"][1] == {
        "type": "video_url",
        "video_url": {"url": "http://files.local/v.mp4"},
    }


def test_a_document_is_refused_clearly_unless_supported_then_sent_as_a_file_part():
    doc = DocumentPromptMessageContent(
        format="pdf", base64_data="JVBERi0=", mime_type="application/pdf", filename="a.pdf"
    )
    message = UserPromptMessage(content=[TextPromptMessageContent(data="Summarise"), doc])
    with pytest.raises(
        InvokeBadRequestError, match=r"takes images, video and audio only.*Document Extractor"
    ):
        _body([message])
    DESCRIPTIONS.clear()
    SCHEMAS.clear()
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.post(CHAT_URL, json=fixture_json("llm_05_chat_nonstream.json"))
        invoke("test-llm", [message], stream=False, document="supported")
        (body,) = sent_bodies(mock)
    assert body["messages"][0]["content"][1] == {
        "type": "file",
        "file": {"file_data": "data:application/pdf;base64,JVBERi0=", "filename": "a.pdf"},
    }


def test_the_overrides_are_in_the_provider_form_in_three_languages():
    form = yaml.safe_load((FIXTURES.parents[2] / "provider" / "xinference.yaml").read_text())
    fields = {f["variable"]: f for f in form["model_credential_schema"]["credential_form_schemas"]}
    for name in ("video", "audio", "document"):
        field = fields[name]
        assert field["show_on"] == [{"variable": "__model_type", "value": "llm"}]
        assert [o["value"] for o in field["options"]] == ["auto", "supported", "unsupported"]
        for text in [field["label"], *(o["label"] for o in field["options"])]:
            assert set(text) == {"en_US", "zh_Hans", "ja_JP"}


# ---- 4. Reasoning effort -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("family", "levels"),
    [
        ("gpt-oss", ["low", "medium", "high"]),
        ("qwen3.8", ["low", "medium", "high"]),
        ("qwen3.8-max", ["low", "medium", "high"]),
        ("glm-5.2", ["high", "max"]),
        ("glm-5.3", ["low", "high", "max"]),
        ("qwen2.5-instruct", None),
        ("qwen3", None),
    ],
)
def test_reasoning_effort_is_shown_only_for_models_whose_template_reads_it(family, levels):
    DESCRIPTIONS.clear()
    SCHEMAS.clear()
    with responses.RequestsMock() as mock:
        add_description(mock, model_family=family)
        found = rules(schema())
    rule = found.get("reasoning_effort")
    assert (rule.options if rule else None) == levels
    if rule:
        assert rule.label.zh_hans == "推理强度" and rule.label.ja_jp == "推論の強さ" and not rule.required


def test_reasoning_effort_label_and_help_list_the_family_levels_in_three_languages():
    DESCRIPTIONS.clear()
    SCHEMAS.clear()
    with responses.RequestsMock() as mock:
        add_description(mock, model_family="glm-5.3")
        rule = rules(schema())["reasoning_effort"]
    assert (rule.label.en_us, rule.label.zh_hans, rule.label.ja_jp) == (
        "Reasoning effort",
        "推理强度",
        "推論の強さ",
    )
    assert (rule.help.en_us, rule.help.zh_hans, rule.help.ja_jp) == (
        "How much the model reasons before answering (low, high, max). Unset: the model's default.",
        "模型回答前推理的程度（low、high、max）。不设置：使用模型的默认值。",
        "回答前にどれだけ推論するか（low、high、max）。未設定：モデルのデフォルト。",
    )


@pytest.mark.parametrize(
    ("family", "level", "sent"),
    [
        ("gpt-oss", "low", "low"),
        ("gpt-oss", "high", "high"),
        ("qwen3.8", "high", "xhigh"),
        ("qwen3.8", "low", "low"),
        ("glm-5.3", "max", "max"),
    ],
)
def test_reasoning_effort_goes_into_chat_template_kwargs(family, level, sent):
    body = _body([UserPromptMessage(content="Hi")], params={"reasoning_effort": level}, model_family=family)
    assert body["chat_template_kwargs"] == {"reasoning_effort": sent}
    assert "reasoning_effort" not in body


def test_reasoning_effort_unset_sends_nothing_and_joins_the_thinking_switch():
    assert "chat_template_kwargs" not in _body([UserPromptMessage(content="Hi")], model_family="gpt-oss")
    body = _body(
        [UserPromptMessage(content="Hi")],
        params={"reasoning_effort": "medium", "enable_thinking": True},
        model_family="qwen3.8",
        model_ability=["chat", "reasoning", "hybrid"],
        drop=("model_engine",),  # before 3.1: the switch also goes into chat_template_kwargs
    )
    assert body["chat_template_kwargs"] == {"enable_thinking": True, "reasoning_effort": "medium"}


# ---- 5. reasoning replay -----------------------------------------------------------------------


def _agent_history():
    return [
        UserPromptMessage(content="Weather in Paris?"),
        AssistantPromptMessage(
            content="<think>\nI should call the tool.\n</think>",
            tool_calls=[call("call_1", "get_weather", '{"city": "Paris"}')],
        ),
        ToolPromptMessage(content="18°C", tool_call_id="call_1", name="get_weather"),
    ]


@pytest.mark.parametrize("family", ["Kimi-K2.5", "seed-oss", "MiniMax-M3"])
def test_reasoning_of_a_tool_call_turn_goes_to_reasoning_content_where_the_template_reads_only_that(family):
    body = _body(_agent_history(), tools=[WEATHER_TOOL], model_family=family)
    assistant = body["messages"][1]
    assert assistant["content"] == ""
    assert assistant["reasoning_content"] == "I should call the tool."


@pytest.mark.parametrize("family", ["qwen3", "glm-5.2", "qwen2.5-instruct"])
def test_other_templates_keep_the_inline_block_and_get_no_field(family):
    body = _body(_agent_history(), tools=[WEATHER_TOOL], model_family=family)
    assistant = body["messages"][1]
    assert assistant["content"] == "<think>\nI should call the tool.\n</think>"
    assert "reasoning_content" not in assistant


def test_reasoning_in_opaque_body_wins_and_is_used_only_where_read():
    history = _agent_history()
    history[1] = AssistantPromptMessage(
        content="", tool_calls=history[1].tool_calls, opaque_body={"reasoning_content": "kept by Dify"}
    )
    assert (
        _body(history, tools=[WEATHER_TOOL], model_family="Kimi-K2.5")["messages"][1]["reasoning_content"]
        == "kept by Dify"
    )
    assert (
        "reasoning_content" not in _body(history, tools=[WEATHER_TOOL], model_family="qwen3")["messages"][1]
    )


@pytest.mark.parametrize(
    ("content", "sent_content", "reasoning"),
    [
        # the newlines around the tags go, the reasoning's own first and last characters stay
        ("<think>\nXinference is up.\n</think>", "", "Xinference is up."),
        ("<think>\n  - check the weather\n</think>", "", "  - check the weather"),
        # the template opened the block: the reasoning is everything before the first closing tag
        ("I should call the tool.</think>Calling it.", "Calling it.", "I should call the tool."),
        (
            "Plan: one call.</think>Its docs end a block with </think> too.",
            "Its docs end a block with </think> too.",
            "Plan: one call.",
        ),
        # nothing to move: no block, or an empty one
        ("Let me check.", "Let me check.", None),
        ("<think>\n\n</think>Checking.", "Checking.", None),
    ],
)
def test_reasoning_content_holds_exactly_the_first_block_of_a_tool_call_turn(
    content, sent_content, reasoning
):
    history = _agent_history()
    history[1] = AssistantPromptMessage(content=content, tool_calls=history[1].tool_calls)
    assistant = _body(history, tools=[WEATHER_TOOL], model_family="Kimi-K2.5")["messages"][1]
    assert assistant["content"] == sent_content
    assert assistant.get("reasoning_content", "no field") == (reasoning or "no field")


def test_reasoning_in_opaque_body_wins_over_an_inline_block():
    history = _agent_history()
    history[1] = AssistantPromptMessage(
        content="<think>inline</think>",
        tool_calls=history[1].tool_calls,
        opaque_body={"reasoning_content": "kept by Dify"},
    )
    assistant = _body(history, tools=[WEATHER_TOOL], model_family="seed-oss")["messages"][1]
    assert (assistant["content"], assistant["reasoning_content"]) == ("", "kept by Dify")


def test_an_opaque_body_without_text_reasoning_is_not_replayed():
    """Another plugin may keep structured reasoning under the same key: a template needs text."""
    history = _agent_history()
    history[1] = AssistantPromptMessage(
        content="",
        tool_calls=history[1].tool_calls,
        opaque_body={"reasoning_content": [{"type": "thinking", "thinking": "x"}]},
    )
    assert (
        "reasoning_content"
        not in _body(history, tools=[WEATHER_TOOL], model_family="Kimi-K2.5")["messages"][1]
    )
