"""Which voices a running Xinference TTS model knows, and which one to send.

Xinference has no endpoint that lists voices (API reference §7.2), so the list comes from, in order:
1. a voice list in the model's own description, should a server ever include one (none does today);
2. the table below, matched on `model_family` and `model_name` from the description (server data,
   not a guess from the admin-chosen model UID). Names were read from each family's Xinference
   engine code: a wrong name there is a 500, and e.g. ChatTTS treats any string as a speaker seed;
3. otherwise a single placeholder, "default", which sends an empty voice: zero-shot families
   (F5-TTS, FishSpeech, IndexTTS, MegaTTS3, CosyVoice 2 …) then use their built-in reference voice.
The default is never empty, and a voice the model does not know falls back to it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from models._xinference.model_info import ModelDescription

logger = logging.getLogger(__name__)

PLACEHOLDER = "default"  # shown in Dify; sent to Xinference as "" (the official client's default)

ZH, ZH_HANT, EN, JA, KO = "zh-Hans", "zh-Hant", "en-US", "ja-JP", "ko-KR"
ES, FR, IT, PT, HI, DE, RU = "es-ES", "fr-FR", "it-IT", "pt-BR", "hi-IN", "de-DE", "ru-RU"
CHINESE = (ZH, ZH_HANT)
ALL_LANGUAGES = (ZH, ZH_HANT, EN, JA, KO, ES, FR, IT, PT, HI, DE, RU)
# ISO 639-1 prefix -> Dify's language code, for voice lists a server might describe
_ISO_TO_DIFY = {"zh": ZH, "en": EN, "ja": JA, "ko": KO, "es": ES, "fr": FR, "it": IT, "pt": PT, "hi": HI}

Row = tuple[str, Sequence[str]]  # (voice, languages); the display name is the voice itself

_COSYVOICE_SFT: list[Row] = [
    ("中文女", CHINESE),
    ("中文男", CHINESE),
    ("粤语女", CHINESE),
    ("英文女", (EN,)),
    ("英文男", (EN,)),
    ("日语男", (JA,)),
    ("韩语女", (KO,)),
]
# ChatTTS hashes any voice string into a speaker seed: these names (the official plugin's) stay
# stable speakers, so apps that saved one keep their voice.
_CHATTTS: list[Row] = [(v, (ZH, ZH_HANT, EN)) for v in ("alloy", "echo", "fable", "onyx", "nova", "shimmer")]
_KOKORO_PREFIX = {"a": (EN,), "b": (EN,), "j": (JA,), "z": CHINESE, "e": (ES,), "f": (FR,)}
_KOKORO_PREFIX |= {"h": (HI,), "i": (IT,), "p": (PT,)}
_KOKORO_NAMES = (
    "af_heart af_alloy af_aoede af_bella af_jessica af_kore af_nicole af_nova af_river af_sarah af_sky "
    "am_adam am_echo am_eric am_fenrir am_liam am_michael am_onyx am_puck am_santa "
    "bf_alice bf_emma bf_isabella bf_lily bm_daniel bm_fable bm_george bm_lewis "
    "jf_alpha jf_gongitsune jf_nezumi jf_tebukuro jm_kumo "
    "zf_xiaobei zf_xiaoni zf_xiaoxiao zf_xiaoyi zm_yunjian zm_yunxi zm_yunxia zm_yunyang "
    "ef_dora em_alex em_santa ff_siwis hf_alpha hf_beta hm_omega hm_psi if_sara im_nicola "
    "pf_dora pm_alex pm_santa"
)
_KOKORO: list[Row] = [(v, _KOKORO_PREFIX[v[0]]) for v in _KOKORO_NAMES.split()]
_KOKORO_ZH: list[Row] = [("zf_001", CHINESE), ("zm_010", CHINESE), ("af_maple", (EN,)), ("af_sol", (EN,))]
_KOKORO_ZH.append(("bf_vale", (EN,)))
# MeloTTS: one checkpoint per language, speakers from its spk2id
_MELO_ENGLISH: list[Row] = [(v, (EN,)) for v in ("EN-Default", "EN-US", "EN-BR", "EN_INDIA", "EN-AU")]
_MELO_BY_NAME: dict[str, list[Row]] = {
    "melotts-english": _MELO_ENGLISH,
    "melotts-english-v2": _MELO_ENGLISH,
    "melotts-english-v3": [("EN-Newest", (EN,))],
    "melotts-chinese": [("ZH", (ZH, ZH_HANT, EN))],
    "melotts-japanese": [("JP", (JA,))],
    "melotts-korean": [("KR", (KO,))],
    "melotts-spanish": [("ES", (ES,))],
    "melotts-french": [("FR", (FR,))],
}
_QWEN3_CUSTOM: list[Row] = [
    ("vivian", CHINESE),
    ("serena", CHINESE),
    ("uncle_fu", CHINESE),
    ("dylan", CHINESE),
    ("eric", CHINESE),
    ("ryan", (EN,)),
    ("aiden", (EN,)),
    ("ono_anna", (JA,)),
    ("sohee", (KO,)),
]


def _table_rows(family: str, name: str) -> list[Row] | None:
    """The built-in voices of a (family, model name), lower-cased; None for zero-shot/unknown models."""
    if family == "cosyvoice":
        # Only the SFT and Instruct checkpoints carry speakers; the others need a reference voice.
        return _COSYVOICE_SFT if ("sft" in name or "instruct" in name) else None
    if family == "chattts":
        return _CHATTTS
    if family.startswith("kokoro"):
        return _KOKORO_ZH if (family.endswith("-zh") or name.endswith("-zh")) else _KOKORO
    if family.startswith("melotts"):
        return _MELO_BY_NAME.get(name.removesuffix("-mlx"))
    if family == "qwen3_tts":
        return _QWEN3_CUSTOM if "customvoice" in name else None  # Base/VoiceDesign are zero-shot
    return None


@dataclass(frozen=True)
class VoiceCatalog:
    voices: list[dict[str, Any]]  # Dify's shape: {"mode", "name", "language": [...]}
    default: str  # a `mode` in `voices`, never empty
    source: str  # "server", "table" or "placeholder", for logs

    def resolve(self, requested: str | None) -> str:
        """The voice to send for what Dify asked: a known voice, else the default ("" = model default)."""
        known = {v["mode"] for v in self.voices}
        choice = requested if requested in known else self.default
        if requested and requested not in known:
            logger.info("voice %r is not one this model knows; using %r instead", requested, choice)
        return "" if choice == PLACEHOLDER else choice

    def for_language(self, language: str | None) -> list[dict[str, Any]]:
        """Voices for a Dify language code; all of them when none matches (an empty list would leave
        the admin nothing to pick, and multilingual models speak more than we know)."""
        if not language:
            return self.voices
        matching = [v for v in self.voices if language in v["language"]]
        return matching or self.voices


def voice_catalog(description: ModelDescription | None, admin_default: str = "") -> VoiceCatalog:
    """Voices and default for a model; `admin_default` (credentials) wins and is always selectable."""
    rows, source = None, "placeholder"
    if description is not None:
        rows = _server_rows(description.raw)
        source = "server" if rows else "table"
        rows = rows or _table_rows(description.family.lower(), description.model_name.lower())
        source = source if rows else "placeholder"
    rows = list(rows or [(PLACEHOLDER, ALL_LANGUAGES)])
    voices = [_entry(voice, languages) for voice, languages in rows]
    default = admin_default or rows[0][0]
    if default not in {v["mode"] for v in voices}:
        voices.insert(0, _entry(default, ALL_LANGUAGES))
    return VoiceCatalog(voices=voices, default=default, source=source)


def _entry(voice: str, languages: Sequence[str]) -> dict[str, Any]:
    name = "Model default voice" if voice == PLACEHOLDER else voice
    return {"mode": voice, "name": name, "language": list(languages)}


def _server_rows(raw: Mapping[str, Any]) -> list[Row] | None:
    """A voice list in the description, if the server sent one: strings, or objects with a name."""
    for key in ("voices", "speakers", "available_voices", "available_speakers"):
        value = raw.get(key)
        if isinstance(value, Mapping):  # e.g. {"name": {...}} like MeloTTS's spk2id
            value = list(value)
        if not isinstance(value, list):
            continue
        rows = [row for row in (_server_row(item) for item in value) if row]
        if rows:
            return rows
    return None


def _server_row(item: Any) -> Row | None:
    if isinstance(item, str):
        return (item, ALL_LANGUAGES) if item.strip() else None
    if not isinstance(item, Mapping):
        return None
    voice = item.get("id") or item.get("voice") or item.get("name")
    if not isinstance(voice, str) or not voice.strip():
        return None
    return voice, _languages(item.get("language") or item.get("languages"))


def _languages(value: Any) -> Sequence[str]:
    values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    codes = []
    for v in values:
        text = str(v)
        code = text if text in ALL_LANGUAGES else _ISO_TO_DIFY.get(text.lower()[:2])
        if code and code not in codes:
            codes.append(code)
    return codes or ALL_LANGUAGES
