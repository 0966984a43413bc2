"""Each on/off choice of the form, posted as the form posts it and stored through Dify's own rule
(tests/dify_form.py), changes what the plugin does: truncation off refuses a too-long text, streaming
on streams. Verification off reaching a self-signed server is tests/reliability/test_tls.py (TLS in
this gevent-patched test process recurses inside ssl; the plugin process patches first, as in Dify)."""

from __future__ import annotations

import json

import pytest
import responses
from dify_plugin.errors.model import InvokeBadRequestError

from models.text_embedding.text_embedding import XinferenceTextEmbeddingModel
from models.tts.tts import XinferenceTTSModel
from tests.dify_form import dify_stored
from tests.text_embedding.embedding_support import (
    DOCUMENT,
    EMBED_URL,
    LONG,
    REAL_VECTOR,
    UID,
    add_description,
)
from tests.tts.audio_fakes import SPEECH_URL, Trickle
from tests.tts.tts_support import UID as TTS_UID
from tests.tts.tts_support import described


def _embed(**posted):
    stored = dify_stored(
        "text-embedding", {"server_url": EMBED_URL.rsplit("/v1", 1)[0], "model_uid": UID, **posted}
    )
    return XinferenceTextEmbeddingModel(model_schemas=[]).invoke("emb", stored, ["ok", LONG], None, DOCUMENT)


def test_truncation_on_lets_the_server_cut_a_too_long_text():
    with responses.RequestsMock() as mock:
        add_description(mock)
        mock.post(EMBED_URL, json={"data": [{"index": i, "embedding": REAL_VECTOR} for i in range(2)]})
        _embed()
        assert json.loads(mock.calls[-1].request.body)["truncate_prompt_tokens"] == -1


def test_truncation_off_as_the_form_posts_it_refuses_a_too_long_text():
    with responses.RequestsMock() as mock:
        add_description(mock)
        with pytest.raises(InvokeBadRequestError, match=r"Text 2 .* at most 256 tokens"):
            _embed(truncate_long_texts="false")
        assert [c.request.method for c in mock.calls] == ["GET"]  # refused before any embedding request


@pytest.mark.parametrize(
    ("posted", "streams"),
    [({}, False), ({"tts_streaming": "false"}, False), ({"tts_streaming": "true"}, True)],
)
def test_tts_streaming_follows_the_switch_as_the_form_posts_it(posted, streams):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        described(mock)
        mock.post(SPEECH_URL, body=Trickle([b"ID3-a", b"b"]), stream=True, content_type="audio/mpeg")
        stored = dify_stored(
            "tts", {"server_url": SPEECH_URL.split("/v1")[0], "model_uid": TTS_UID, **posted}
        )
        audio = b"".join(XinferenceTTSModel(model_schemas=[]).invoke(TTS_UID, "tenant", stored, "Hello.", ""))
        assert audio.startswith(b"ID3-a")
        assert json.loads(mock.calls[-1].request.body).get("stream", False) is streams
