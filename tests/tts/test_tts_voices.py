"""Voice lists per family (names from each family's Xinference engine code), server-listed voices,
language filtering, the default and the fallback for unknown voices."""

import logging

import pytest

from models._xinference.model_info import ModelDescription
from models.tts.voices import ALL_LANGUAGES, PLACEHOLDER, voice_catalog
from tests.tts.audio_fakes import audio_description


def describe(name, family, abilities=("text2audio",), **extra):
    return ModelDescription.from_json(
        "uid-chosen-by-admin", audio_description(name, family, list(abilities), **extra)
    )


def modes(catalog):
    return [v["mode"] for v in catalog.voices]


FAMILIES = [
    # (model_name, model_family, some voices that must be listed, default)
    ("ChatTTS", "ChatTTS", ["alloy", "echo", "shimmer"], "alloy"),
    (
        "CosyVoice-300M-SFT",
        "CosyVoice",
        ["中文女", "中文男", "日语男", "粤语女", "英文女", "英文男", "韩语女"],
        "中文女",
    ),
    ("CosyVoice-300M-Instruct", "CosyVoice", ["中文女", "英文男"], "中文女"),
    (
        "Kokoro-82M",
        "Kokoro",
        ["af_heart", "af_bella", "am_adam", "bf_emma", "bm_george", "jf_alpha", "zf_xiaobei"],
        "af_heart",
    ),
    ("Kokoro-82M-v1.1-zh", "Kokoro-zh", ["zf_001", "zm_010", "af_maple"], "zf_001"),
    ("Kokoro-82M-v1.1-zh", "Kokoro", ["zf_001", "zm_010"], "zf_001"),  # the name alone says Chinese
    ("kokoro-chinese-local", "Kokoro-zh", ["zf_001", "zm_010"], "zf_001"),  # the family alone says it
    ("MeloTTS-English", "MeloTTS", ["EN-US", "EN-BR", "EN_INDIA", "EN-AU", "EN-Default"], "EN-Default"),
    ("MeloTTS-English-v3", "MeloTTS", ["EN-Newest"], "EN-Newest"),
    ("MeloTTS-Chinese", "MeloTTS", ["ZH"], "ZH"),
    ("MeloTTS-Chinese-MLX", "MeloTTS", ["ZH"], "ZH"),
    ("MeloTTS-Japanese", "MeloTTS", ["JP"], "JP"),
    ("MeloTTS-Korean", "MeloTTS", ["KR"], "KR"),
    ("MeloTTS-Spanish", "MeloTTS", ["ES"], "ES"),
    ("MeloTTS-French", "MeloTTS", ["FR"], "FR"),
    ("Qwen3-TTS-12Hz-1.7B-CustomVoice", "qwen3_tts", ["vivian", "ryan", "ono_anna", "sohee"], "vivian"),
]


@pytest.mark.parametrize(("name", "family", "listed", "default"), FAMILIES, ids=[f[0] for f in FAMILIES])
def test_families_with_named_speakers(name, family, listed, default):
    catalog = voice_catalog(describe(name, family))
    assert set(listed) <= set(modes(catalog))
    assert PLACEHOLDER not in modes(catalog)
    assert catalog.default == default
    assert catalog.resolve(None) == default
    assert catalog.source == "table"
    for voice in catalog.voices:
        assert voice["name"] and voice["language"]


ZERO_SHOT = [
    ("F5-TTS", "F5-TTS"),
    ("F5-TTS", "F5-TTS-MLX"),
    ("FishSpeech-1.5", "FishAudio"),
    ("IndexTTS2", "IndexTTS2"),
    ("MegaTTS3", "MegaTTS3"),
    ("CosyVoice2-0.5B", "CosyVoice"),
    ("CosyVoice-300M", "CosyVoice"),
    ("Qwen3-TTS-12Hz-1.7B-Base", "qwen3_tts"),
    ("Qwen3-TTS-12Hz-1.7B-VoiceDesign", "qwen3_tts"),
    ("SomeFutureTTS", "SomethingNew"),
]


@pytest.mark.parametrize(("name", "family"), ZERO_SHOT, ids=[z[0] + "/" + z[1] for z in ZERO_SHOT])
def test_zero_shot_and_unknown_families_get_a_non_empty_default_that_sends_no_voice(name, family):
    catalog = voice_catalog(describe(name, family, ("text2audio", "text2audio_zero_shot")))
    assert modes(catalog) == [PLACEHOLDER]
    assert catalog.default == PLACEHOLDER  # what Dify shows and stores: never empty
    assert catalog.voices[0]["language"] == list(ALL_LANGUAGES)
    assert catalog.resolve(PLACEHOLDER) == ""  # Xinference's own default / reference voice
    assert catalog.resolve("alloy") == ""
    assert catalog.source == "placeholder"  # the operator's log says no voice list was found


def test_family_comes_from_the_description_not_the_uid():
    # The admin named the uid "kokoro", but the server says it is ChatTTS.
    description = ModelDescription.from_json(
        "kokoro", audio_description("ChatTTS", "ChatTTS", ["text2audio"])
    )
    assert voice_catalog(description).default == "alloy"


def test_unknown_voice_falls_back_to_the_default_and_the_operator_log_says_so(caplog):
    caplog.set_level(logging.INFO, logger="models.tts.voices")
    catalog = voice_catalog(describe("CosyVoice-300M-SFT", "CosyVoice"))
    assert catalog.resolve("英文男") == "英文男"
    assert catalog.resolve("alloy") == "中文女"  # an official-plugin ChatTTS name on CosyVoice
    assert catalog.resolve("") == "中文女"
    # only the unknown voice is worth a line: a known one or none asked for is not a substitution
    assert caplog.messages == ["voice 'alloy' is not one this model knows; using '中文女' instead"]


def test_admin_default_voice_wins_and_is_selectable():
    catalog = voice_catalog(describe("CosyVoice-300M-SFT", "CosyVoice"), admin_default="英文女")
    assert catalog.default == "英文女"
    assert catalog.resolve("nonsense") == "英文女"
    custom = voice_catalog(describe("Kokoro-82M", "Kokoro"), admin_default="my_voice.pt")
    assert modes(custom)[0] == "my_voice.pt"
    assert custom.resolve(None) == "my_voice.pt"


def test_no_description_still_gives_a_usable_default():
    catalog = voice_catalog(None)
    assert catalog.default == PLACEHOLDER
    assert catalog.source == "placeholder"


@pytest.mark.parametrize(
    ("listed", "expected_modes", "expected_languages"),
    [
        (["spk_a", "spk_b"], ["spk_a", "spk_b"], [list(ALL_LANGUAGES)] * 2),
        ([{"id": "anna", "language": "en"}, {"name": "li", "languages": ["zh", "en"]}], ["anna", "li"], None),
        ({"EN-US": 0, "EN-BR": 1}, ["EN-US", "EN-BR"], None),
    ],
    ids=["strings", "objects", "mapping"],
)
def test_a_voice_list_in_the_description_is_used(listed, expected_modes, expected_languages):
    catalog = voice_catalog(describe("ChatTTS", "ChatTTS", voices=listed))
    assert catalog.source == "server"
    assert modes(catalog) == expected_modes
    assert catalog.default == expected_modes[0]
    assert catalog.resolve("alloy") == expected_modes[0]  # table voices no longer count
    if expected_languages:
        assert [v["language"] for v in catalog.voices] == expected_languages


@pytest.mark.parametrize("key", ["voices", "speakers", "available_voices", "available_speakers"])
def test_every_key_a_server_lists_voices_under_is_read(key):
    catalog = voice_catalog(describe("ChatTTS", "ChatTTS", **{key: ["spk_a", {"id": "spk_b"}]}))
    assert catalog.source == "server"
    assert [(v["mode"], v["name"]) for v in catalog.voices] == [("spk_a", "spk_a"), ("spk_b", "spk_b")]


def test_server_language_codes_are_mapped_to_difys():
    catalog = voice_catalog(
        describe("X", "Y", speakers=[{"id": "anna", "language": "en"}, {"id": "li", "language": ["zh"]}])
    )
    assert [v["language"] for v in catalog.voices] == [["en-US"], ["zh-Hans"]]


def test_server_voice_objects_in_every_shape_keep_their_languages_in_difys_codes():
    speakers = [
        {"voice": "nova", "languages": ["zh-Hant", "en-GB", "en", "fr_FR"]},
        {"name": "kai", "language": 7},  # not a code at all: the voice is offered for every language
    ]
    catalog = voice_catalog(describe("X", "Y", speakers=speakers))
    assert [(v["mode"], v["language"]) for v in catalog.voices] == [
        ("nova", ["zh-Hant", "en-US", "fr-FR"]),
        ("kai", list(ALL_LANGUAGES)),
    ]


def test_an_empty_or_malformed_server_list_falls_back_to_the_table():
    catalog = voice_catalog(describe("Kokoro-82M", "Kokoro", voices=[None, "", {"language": "en"}]))
    assert catalog.source == "table"
    assert catalog.default == "af_heart"


def test_language_filter_and_its_fallback():
    catalog = voice_catalog(describe("Kokoro-82M", "Kokoro"))
    japanese = catalog.for_language("ja-JP")
    assert {v["mode"] for v in japanese} == {
        "jf_alpha",
        "jf_gongitsune",
        "jf_nezumi",
        "jf_tebukuro",
        "jm_kumo",
    }
    assert catalog.for_language(None) == catalog.voices
    assert catalog.for_language("th-TH") == catalog.voices  # never an empty list
    cosy = voice_catalog(describe("CosyVoice-300M-SFT", "CosyVoice"))
    assert [v["mode"] for v in cosy.for_language("zh-Hant")] == ["中文女", "中文男", "粤语女"]
