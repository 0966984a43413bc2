"""Message content parts: images from URL and base64 with their detail, video and audio for an
omni model, the vision override, and parts the model cannot take (a clear error, never dropped)."""

from __future__ import annotations

import pytest
import responses
from dify_plugin.entities.model.message import (
    AssistantPromptMessage,
    AudioPromptMessageContent,
    DocumentPromptMessageContent,
    ImagePromptMessageContent,
    TextPromptMessageContent,
    UserPromptMessage,
    VideoPromptMessageContent,
)
from dify_plugin.errors.model import InvokeBadRequestError

from tests.helpers import fixture_json
from tests.llm.messages_support import sent_messages
from tests.llm.support import (
    CHAT_URL,
    add_description,
    invoke,
    sent_bodies,
)

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="


def test_image_parts_from_url_and_base64_keep_their_detail():
    user = UserPromptMessage(
        content=[
            TextPromptMessageContent(data="What is in these?"),
            ImagePromptMessageContent(format="png", mime_type="image/png", url="https://example.org/cat.png"),
            ImagePromptMessageContent(
                format="png",
                mime_type="image/png",
                base64_data=PNG,
                detail=ImagePromptMessageContent.DETAIL.HIGH,
            ),
        ]
    )
    sent = sent_messages([user], model_ability=["chat", "vision"])
    assert sent[0]["content"] == [
        {"type": "text", "text": "What is in these?"},
        {"type": "image_url", "image_url": {"url": "https://example.org/cat.png", "detail": "low"}},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}", "detail": "high"}},
    ]


def test_video_and_audio_parts_for_an_omni_model():
    user = UserPromptMessage(
        content=[
            VideoPromptMessageContent(format="mp4", mime_type="video/mp4", url="https://example.org/a.mp4"),
            AudioPromptMessageContent(format="wav", mime_type="audio/wav", base64_data="UklGRg=="),
        ]
    )
    sent = sent_messages([user], model_ability=["chat", "omni"])
    assert sent[0]["content"] == [
        {"type": "video_url", "video_url": {"url": "https://example.org/a.mp4"}},
        {"type": "audio_url", "audio_url": {"url": "data:audio/wav;base64,UklGRg=="}},
    ]


def test_vision_override_lets_images_through_when_the_server_does_not_report_vision():
    user = UserPromptMessage(
        content=[ImagePromptMessageContent(format="png", mime_type="image/png", url="u")]
    )
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.post(CHAT_URL, json=fixture_json("llm_05_chat_nonstream.json"))
        invoke(messages=[user], stream=False, vision="supported")
        assert sent_bodies(mock)[0]["messages"][0]["content"][0]["type"] == "image_url"


@pytest.mark.parametrize(
    ("part", "problem"),
    [
        (
            ImagePromptMessageContent(format="png", mime_type="image/png", url="u"),
            "cannot read an image.*Vision",
        ),
        (VideoPromptMessageContent(format="mp4", mime_type="video/mp4", url="u"), "cannot read a video"),
        (AudioPromptMessageContent(format="wav", mime_type="audio/wav", url="u"), "cannot read audio"),
        (
            DocumentPromptMessageContent(format="pdf", mime_type="application/pdf", url="u"),
            "cannot read document",
        ),
    ],
)
def test_parts_the_model_cannot_take_are_a_clear_error_not_dropped(part, problem):
    user = UserPromptMessage(content=[TextPromptMessageContent(data="look"), part])
    with responses.RequestsMock() as mock:
        add_description(mock)  # chat + tools only
        with pytest.raises(InvokeBadRequestError, match=problem):
            invoke(messages=[user])
        assert len(mock.calls) == 1  # nothing was sent


def test_files_in_an_assistant_message_are_refused():
    bad = AssistantPromptMessage(
        content=[ImagePromptMessageContent(format="png", mime_type="image/png", url="u")]
    )
    with responses.RequestsMock() as mock:
        add_description(mock, model_ability=["chat", "vision"])
        with pytest.raises(InvokeBadRequestError, match="assistant message can only contain text"):
            invoke(messages=[UserPromptMessage(content="hi"), bad])
