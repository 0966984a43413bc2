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
    SystemPromptMessage,
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


_HINT = "set {} to Supported in this model's settings in Dify if the server is wrong about it"


@pytest.mark.parametrize(
    ("part", "message"),
    [
        (
            ImagePromptMessageContent(format="png", mime_type="image/png", url="u"),
            "This model cannot read an image: Xinference does not report the vision ability for it; "
            + _HINT.format("Vision"),
        ),
        (
            VideoPromptMessageContent(format="mp4", mime_type="video/mp4", url="u"),
            "This model cannot read a video: Xinference does not report the video (or omni) ability for it; "
            + _HINT.format("Video input"),
        ),
        (
            AudioPromptMessageContent(format="wav", mime_type="audio/wav", url="u"),
            "This model cannot read audio: Xinference does not report the audio (or omni) ability for it; "
            + _HINT.format("Audio input"),
        ),
        (
            DocumentPromptMessageContent(format="pdf", mime_type="application/pdf", url="u"),
            "Xinference chat models cannot read document content parts (its chat API takes images, video "
            "and audio only); convert the file to text first (e.g. with a Document Extractor node)",
        ),
    ],
)
def test_parts_the_model_cannot_take_are_a_clear_error_not_dropped(part, message):
    """The whole message the admin reads: what the model lacks, and the setting that overrides it."""
    user = UserPromptMessage(content=[TextPromptMessageContent(data="look"), part])
    with responses.RequestsMock() as mock:
        add_description(mock)  # chat + tools only
        with pytest.raises(InvokeBadRequestError) as refused:
            invoke(messages=[user])
        assert str(refused.value) == message
        assert len(mock.calls) == 1  # nothing was sent


def test_a_document_without_a_filename_is_sent_without_one():
    doc = DocumentPromptMessageContent(format="pdf", mime_type="application/pdf", base64_data="JVBERi0=")
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.post(CHAT_URL, json=fixture_json("llm_05_chat_nonstream.json"))
        invoke(messages=[UserPromptMessage(content=[doc])], stream=False, document="supported")
        sent = sent_bodies(mock)[0]["messages"][0]["content"]
    assert sent == [{"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBERi0="}}]


def test_files_in_an_assistant_message_are_refused():
    bad = AssistantPromptMessage(
        content=[ImagePromptMessageContent(format="png", mime_type="image/png", url="u")]
    )
    with responses.RequestsMock() as mock:
        add_description(mock, model_ability=["chat", "vision"])
        with pytest.raises(InvokeBadRequestError, match="assistant message can only contain text"):
            invoke(messages=[UserPromptMessage(content="hi"), bad])


def test_files_in_a_system_message_are_refused_naming_each_kind():
    bad = SystemPromptMessage(
        content=[
            TextPromptMessageContent(data="Describe:"),
            ImagePromptMessageContent(format="png", mime_type="image/png", url="u"),
            AudioPromptMessageContent(format="wav", mime_type="audio/wav", url="u"),
        ]
    )
    with responses.RequestsMock() as mock:
        add_description(mock, model_ability=["chat", "omni"])
        with pytest.raises(InvokeBadRequestError) as refused:
            invoke(messages=[bad, UserPromptMessage(content="hi")])
    assert str(refused.value) == (
        "A system message can only contain text, but this one holds image, audio content; "
        "move files into a user message"
    )


def test_text_parts_of_a_system_message_are_sent_joined_as_written():
    system = SystemPromptMessage(
        content=[
            TextPromptMessageContent(data="Be brief. "),
            TextPromptMessageContent(data="Answer in French."),
        ]
    )
    sent = sent_messages([system, UserPromptMessage(content="Hi")])
    assert sent[0] == {"role": "system", "content": "Be brief. Answer in French."}


@pytest.mark.parametrize("empty", ["", None])
def test_an_empty_user_message_is_sent_as_empty_text(empty):
    # a workflow LLM node whose user prompt is an empty variable
    sent = sent_messages([SystemPromptMessage(content="Be brief."), UserPromptMessage(content=empty)])
    assert sent == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": ""}]
