"""Where a text counts as too long for an embedding model: from 90 % of its max_tokens minus two special
tokens the server is asked to truncate; with truncation turned off, only a text estimated over max_tokens
itself is refused, naming its place in Dify's list, its estimate and the model."""

from __future__ import annotations

import json

import pytest
import responses
from dify_plugin.errors.model import InvokeBadRequestError

from models._xinference.tokens import estimate_tokens
from tests.text_embedding.embedding_support import (
    DOCUMENT,
    EMBED_URL,
    UID,
    add_description,
    creds,
    model,
    numbered_server,
    sent_bodies,
)

LIMIT = 20  # 90 % of it less 2 special tokens: texts estimated over 16 tokens may be too long


def words(count: int) -> str:
    text = " ".join(["word"] * count)
    assert estimate_tokens(text) == count
    return text


def truncation_asked(text: str, **settings) -> bool:
    with responses.RequestsMock() as mock:
        add_description(mock, max_tokens=LIMIT)
        numbered_server(mock)
        model().invoke("emb", creds(**settings), [text], None, DOCUMENT)
        (body,) = sent_bodies(mock)
    assert body["input"] == [text]
    return "truncate_prompt_tokens" in body


@pytest.mark.parametrize(("tokens", "asked"), [(16, False), (17, True)])
def test_truncation_is_asked_from_the_margin_below_the_limit(tokens, asked):
    assert truncation_asked(words(tokens)) is asked


def test_a_short_text_of_rare_letters_estimated_over_the_margin_is_truncated():
    text = "\U0001d49c" * 16  # 16 characters of 4 UTF-8 bytes each: 1.6 tokens apiece
    assert len(text) <= LIMIT * 0.9 - 2 < estimate_tokens(text)
    assert truncation_asked(text)


@pytest.mark.parametrize("tokens", [17, LIMIT])
def test_with_truncation_off_a_text_up_to_the_limit_is_sent_whole(tokens):
    assert not truncation_asked(words(tokens), truncate_long_texts=False)


def test_with_truncation_off_a_text_over_the_limit_is_refused_by_name():
    text = words(LIMIT + 1)
    with responses.RequestsMock() as mock:
        add_description(mock, max_tokens=LIMIT)
        numbered_server(mock)
        with pytest.raises(InvokeBadRequestError) as caught:
            model().invoke(
                "emb", creds(truncate_long_texts=False, max_chunks="2"), ["a", "b", "c", text], None, DOCUMENT
            )
        assert [body["input"] for body in sent_bodies(mock)] == [["a", "b"]]  # the refused batch is not sent
    assert str(caught.value) == (
        f"Text 4 of this request is about 21 tokens, but embedding model {UID!r} accepts at most 20 tokens "
        "per text; truncation by the server is turned off for this model. Lower the maximum chunk length of "
        "the knowledge base below 20 tokens."
    )


def test_a_refused_long_text_in_a_later_batch_is_named_by_its_place_in_the_whole_list():
    text = words(LIMIT + 1)
    detail = "input too long: " + "the tokenizer's whole report " * 10  # quoted up to 200 characters

    def answer(request):
        texts = json.loads(request.body)["input"]
        if text in texts:
            return 422, {}, json.dumps({"detail": detail})
        items = [{"index": i, "embedding": [0.5] * 384} for i in range(len(texts))]
        return 200, {}, json.dumps({"data": items})

    with responses.RequestsMock() as mock:
        add_description(mock, max_tokens=LIMIT)
        mock.add_callback(responses.POST, EMBED_URL, callback=answer, content_type="application/json")
        with pytest.raises(InvokeBadRequestError) as caught:
            model().invoke("emb", creds(max_chunks="2"), ["a", "b", "c", text], None, DOCUMENT)
    assert str(caught.value) == (
        f"Text 4 of this request is about 21 tokens, but embedding model {UID!r} accepts at most 20 tokens "
        f"per text; the server refused it (HTTP 422: {detail[:200]}). Lower the maximum chunk length of "
        "the knowledge base below 20 tokens."
    )
