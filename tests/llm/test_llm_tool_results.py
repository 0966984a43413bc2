"""Tool results across agent rounds and a trimmed history.

- Files returned by tools: each round's files follow that round's tool results, in their own user
  message, before the model's next turn; no round's files are lost or carried into a later round.
- A tool result whose call is no longer in the history (Dify's memory window cut it) and that has no
  name of its own is sent without a `name`, never with an empty one.
"""

from __future__ import annotations

from dify_plugin.entities.model.message import (
    AssistantPromptMessage,
    ImagePromptMessageContent,
    ToolPromptMessage,
    UserPromptMessage,
)

from tests.llm.messages_support import call, sent_messages

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
INTRO = {"type": "text", "text": "Files returned by the tool calls above:"}


def _round(call_id: str, picture: str) -> list:
    image = ImagePromptMessageContent(format="png", base64_data=PNG, mime_type="image/png", filename=picture)
    return [
        AssistantPromptMessage(content="", tool_calls=[call(call_id, "get_radar", '{"city": "Paris"}')]),
        ToolPromptMessage(content=[image], tool_call_id=call_id, name="get_radar"),
    ]


def _files(picture_count: int) -> dict:
    image = {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}", "detail": "low"}}
    return {"role": "user", "content": [INTRO, *[image] * picture_count]}


def test_each_rounds_files_follow_its_own_tool_results():
    messages = [
        UserPromptMessage(content="Radar for Paris, twice?"),
        *_round("call_a", "first.png"),
        *_round("call_b", "second.png"),
        UserPromptMessage(content="And now?"),
    ]
    sent = sent_messages(messages, model_ability=["chat", "tools", "vision"])
    assert [m["role"] for m in sent] == [
        "user",
        "assistant",
        "tool",
        "user",
        "assistant",
        "tool",
        "user",
        "user",
    ]
    assert sent[2]["content"] == "[image first.png: attached in the next message]"
    assert sent[3] == _files(1)
    assert sent[5]["content"] == "[image second.png: attached in the next message]"
    assert sent[6] == _files(1)
    assert sent[7] == {"role": "user", "content": "And now?"}


def test_a_tool_result_whose_call_was_trimmed_from_the_history_is_sent_without_a_name():
    messages = [
        ToolPromptMessage(content="21°C", tool_call_id="call_gone"),
        UserPromptMessage(content="So, warm?"),
    ]
    assert sent_messages(messages)[0] == {"role": "tool", "tool_call_id": "call_gone", "content": "21°C"}
