"""Xinference text-to-audio models as a Dify TTS model."""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterator, Mapping
from typing import Any, override

from dify_plugin.entities.model import AIModelEntity, ModelPropertyKey, ModelType
from dify_plugin.errors.model import (
    InvokeBadRequestError,
    InvokeError,
    InvokeServerUnavailableError,
)
from dify_plugin.interfaces.model.tts_model import TTSModel

from models._xinference.base import XinferenceModelMixin, schema_credentials, validation_errors
from models._xinference.client import XinferenceClient
from models._xinference.credentials import XinferenceCredentials
from models._xinference.errors import HTTPStatusError, bad_response
from models._xinference.model_info import TTS, ModelDescription
from models._xinference.schemas import model_entity
from models.tts.joining import JOINABLE_FORMATS, joined
from models.tts.pipeline import synthesise_in_order
from models.tts.text import split_text
from models.tts.voices import voice_catalog

logger = logging.getLogger(__name__)

SPEECH = "/v1/audio/speech"
WORD_LIMIT = 300  # characters per request: short enough for every family, long enough for few requests
MAX_WORKERS = 3  # pieces synthesised at once; one model instance serialises most of the work anyway
_VALIDATION_TEXT = "Hello."


class XinferenceTTSModel(XinferenceModelMixin, TTSModel):
    kind = TTS

    def validate_credentials(self, model: str, credentials: Mapping) -> None:
        client, description = self._validated_description(credentials)
        voice = voice_catalog(description, client.credentials.default_voice).resolve(None)
        with validation_errors():
            # Streams too when streaming is on: a family that cannot stream is caught here, not later.
            # The whole answer is read; `_piece_audio` itself refuses empty audio.
            for _chunk in self._piece_audio(client, _VALIDATION_TEXT, voice):
                pass

    def _build_schema(
        self, model: str, creds: XinferenceCredentials | None, description: ModelDescription | None
    ) -> AIModelEntity:
        catalog = voice_catalog(description, creds.default_voice if creds else "")
        audio_format = creds.audio_format if creds else "mp3"
        properties = {
            ModelPropertyKey.VOICES: catalog.voices,
            ModelPropertyKey.DEFAULT_VOICE: catalog.default,
            ModelPropertyKey.AUDIO_TYPE: audio_format,
            ModelPropertyKey.WORD_LIMIT: WORD_LIMIT,
            ModelPropertyKey.MAX_WORKERS: MAX_WORKERS,
        }
        return model_entity(model, ModelType.TTS, properties)

    def get_tts_model_voices(self, model: str, credentials: dict, language: str | None = None) -> list | None:
        # The SDK's filter returns [] when no voice lists the language; ours falls back to all voices.
        creds = schema_credentials(credentials)
        catalog = voice_catalog(self._schema_description(creds), creds.default_voice if creds else "")
        return [{"name": v["name"], "value": v["mode"]} for v in catalog.for_language(language)]

    @override
    def _invoke(
        self,
        model: str,
        tenant_id: str,
        credentials: dict,
        content_text: str,
        voice: str,
        user: str | None = None,
    ) -> bytes | Generator[bytes, None, None]:
        client = self._client(credentials)
        creds = client.credentials
        # Settled before the first byte, so configuration errors surface at once.
        catalog = voice_catalog(self._call_description(client), creds.default_voice)
        chosen = catalog.resolve(voice)
        limit = WORD_LIMIT if creds.audio_format in JOINABLE_FORMATS else len(content_text) + 1
        pieces = split_text(content_text, max(1, limit))
        if not pieces:
            raise InvokeBadRequestError("there is no text to speak")
        logger.debug(
            "TTS: %d piece(s), voice %r (%s), %s", len(pieces), chosen, catalog.source, creds.audio_format
        )
        chunks = synthesise_in_order(
            pieces, lambda piece: self._piece_audio(client, piece, chosen), MAX_WORKERS
        )
        return joined(creds.audio_format, chunks, len(pieces))

    # ---- plugin helpers ----------------------------------------------------------------

    @staticmethod
    def _piece_audio(client: XinferenceClient, text: str, voice: str) -> Iterator[bytes]:
        """The audio of one piece: as it arrives when streaming is on, else as one file."""
        creds = client.credentials
        what = f"speech synthesis on model {creds.model_uid!r}"
        body: dict[str, Any] = {
            "model": creds.model_uid,
            "input": text,
            "voice": voice,
            "response_format": creds.audio_format,
            "speed": creds.speed,
        }
        try:
            if not creds.tts_streaming:
                audio = client.post_for_bytes(SPEECH, body, what=what)
                if not audio:
                    raise bad_response(what, "the audio is empty")
                yield audio
                return
            with client.stream_bytes(SPEECH, {**body, "stream": True}, what=what) as stream:
                chunks = iter(stream)
                first = next(chunks, None)  # the stream never yields b"": None is no audio at all
                if first is None:
                    raise bad_response(what, "the audio stream was empty")
                yield first
                yield from chunks
        except InvokeServerUnavailableError as err:
            raise _streaming_unsupported(err, creds.model_uid) or err from None


def _streaming_unsupported(err: InvokeServerUnavailableError, uid: str) -> InvokeError | None:
    """Kokoro, MeloTTS, F5-TTS, Qwen3-TTS … answer `stream: true` with a 500 saying so; that is a
    setting to change, not a server fault."""
    if not isinstance(err, HTTPStatusError):
        return None
    detail = err.detail.lower()
    if err.status_code == 500 and "stream" in detail and "support" in detail:
        return InvokeBadRequestError(
            f"Model {uid!r} cannot stream audio (Xinference: {err.detail}). "
            "Turn off 'Stream audio' in this model's settings in Dify."
        )
    return None
