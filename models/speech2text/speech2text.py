"""Xinference audio-to-text models as a Dify speech2text model."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from dify_plugin.entities.model import AIModelEntity, ModelType
from dify_plugin.errors.model import InvokeBadRequestError
from dify_plugin.interfaces.model.speech2text_model import Speech2TextModel

from models._xinference.base import XinferenceModelMixin, validation_errors
from models._xinference.client import XinferenceClient
from models._xinference.credentials import XinferenceCredentials
from models._xinference.errors import bad_response
from models._xinference.model_info import SPEECH2TEXT, ModelDescription
from models._xinference.schemas import model_entity

logger = logging.getLogger(__name__)

TRANSCRIPTIONS = "/v1/audio/transcriptions"
# "json" on purpose, although the official plugin switched to "verbose_json" (its PR 2142, for xi#4291:
# paraformer-zh-spk called from Dify showed no speakers or timestamps). Dify's speech2text returns one
# string, so the segments, timestamps and speakers of verbose_json would be thrown away here too, while
# the text is the same (FunASR builds both from the same postprocessed text). And verbose_json is the
# riskier request: FunASR engines (SenseVoice, Paraformer …) only accept it from Xinference v1.7.0 (500
# "Unsupported response format" before), Whisper switches to timestamp decoding for it (which can fail with
# "did not predict an ending timestamp"), and FunASR's converter reads a speaker for every sentence. json is
# the API's default and is accepted by every engine of every version: Whisper, FunASR, Qwen3-ASR, MLX.
# (text, srt and vtt are a 500 on all of them.)
RESPONSE_FORMAT = "json"
# Dify names its temp file after the upload's type; the server decodes by content, the type is a hint.
_MIME_TYPES = {
    ".mp3": "audio/mpeg",
    ".mpga": "audio/mpeg",
    ".wav": "audio/wav",
    ".flac": "audio/flac",
    ".ogg": "audio/ogg",
    ".m4a": "audio/mp4",
    ".mp4": "audio/mp4",
    ".webm": "audio/webm",
    ".amr": "audio/amr",
}


class XinferenceSpeech2TextModel(XinferenceModelMixin, Speech2TextModel):
    kind = SPEECH2TEXT

    def validate_credentials(self, model: str, credentials: Mapping) -> None:
        client, _ = self._validated_description(credentials)
        with validation_errors(), Path(self._get_demo_file_path()).open("rb") as demo:
            self._transcribe(client, demo)

    def _schema_reads_description(self, creds: XinferenceCredentials) -> bool:
        return False  # a transcription needs nothing the server could describe

    def _build_schema(
        self, model: str, creds: XinferenceCredentials | None, description: ModelDescription | None
    ) -> AIModelEntity:
        return model_entity(model, ModelType.SPEECH2TEXT, {})

    def _invoke(self, model: str, credentials: dict, file: IO[bytes], user: str | None = None) -> str:
        return self._transcribe(self._client(credentials), file)

    @staticmethod
    def _transcribe(client: XinferenceClient, file: IO[bytes]) -> str:
        creds = client.credentials
        what = f"transcription on model {creds.model_uid!r}"
        # Read once into memory: a retry after a refused connection must send the whole file
        # again, and a file object would already be at its end.
        audio = file.read()
        if not audio:
            raise InvokeBadRequestError(f"cannot send {what}: the audio file is empty")
        # no name (BytesIO) or a descriptor number as name: no suffix, so "audio.mp3" of unknown type
        suffix = Path(str(getattr(file, "name", None))).suffix.lower()
        upload_name = "audio" + (suffix if suffix in _MIME_TYPES else ".mp3")
        mime = _MIME_TYPES.get(suffix, "application/octet-stream")
        fields = {"model": creds.model_uid, "response_format": RESPONSE_FORMAT}
        if creds.language:
            fields["language"] = creds.language
        data = client.post_multipart(TRANSCRIPTIONS, fields, {"file": (upload_name, audio, mime)}, what=what)
        text = data.get("text") if isinstance(data, dict) else None
        if not isinstance(text, str):
            raise bad_response(what, f"no text in the answer: {str(data)[:120]!r}")
        logger.debug("transcribed %d bytes of audio into %d characters", len(audio), len(text))
        return text.strip()
