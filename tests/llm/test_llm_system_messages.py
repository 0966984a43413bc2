"""System messages as chat templates need them: one, at the start. The leading run is merged (Agent V2
sends several); for templates flagged strict_system_first, which refuse a system message anywhere else,
every later one moves to the front too, even when it is the only one."""

from __future__ import annotations

from dify_plugin.entities.model.message import SystemPromptMessage, UserPromptMessage

from tests.llm.messages_support import sent_messages


def test_a_lone_later_system_message_moves_to_the_front_for_a_strict_template():
    messages = [UserPromptMessage(content="Hi"), SystemPromptMessage(content="Be brief.")]
    assert sent_messages(messages, strict_system_first=True) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
    ]
    # other templates take it where Dify put it
    assert [m["role"] for m in sent_messages(messages)] == ["user", "system"]


def test_a_prompt_of_system_messages_only_becomes_one_system_message():
    messages = [SystemPromptMessage(content="A"), SystemPromptMessage(content="B")]
    assert sent_messages(messages) == [{"role": "system", "content": "A\n\nB"}]
    assert sent_messages(messages[:1]) == [{"role": "system", "content": "A"}]
