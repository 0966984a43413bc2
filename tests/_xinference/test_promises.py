"""Promises the README, the form and code comments make, each held by a test that fails when the
promise breaks (issue 29's table: every change listed there once left the fast tests green)."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
import responses
from dify_plugin.entities.model import EmbeddingInputType
from dify_plugin.errors.model import CredentialsValidateFailedError

from models._xinference.client import XinferenceClient
from models._xinference.credentials import parse_credentials
from models.llm.llm import REFUSAL_TTL, STREAMED_TOOLS_REFUSED
from models.text_embedding.text_embedding import XinferenceTextEmbeddingModel
from tests._xinference.client_support import CHAT, client
from tests.dify_form import FIELDS
from tests.helpers import API_KEY, SERVER, fixture_json, raw_credentials
from tools.packaging.offline import size_problems

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
EMBED_UID = "test-embed"
EMBED = fixture_json("embed_07_get_model.json")


def _embedder() -> XinferenceTextEmbeddingModel:
    return XinferenceTextEmbeddingModel(model_schemas=[])


# ---- validation sends a wrong API key once -----------------------------------------------------


def test_validation_with_a_wrong_key_reaches_the_server_once():
    """Xinference counts every 401 towards banning the client's IP: no second look with the same key."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(f"{SERVER}/v1/models/{EMBED_UID}", status=401, json={"detail": "Invalid API key"})
        mock.get(f"{SERVER}/v1/models", status=401, json={"detail": "Invalid API key"})
        with pytest.raises(CredentialsValidateFailedError):
            _embedder().validate_credentials("emb", raw_credentials(model_uid=EMBED_UID, api_key="xf-wrong"))
        assert len(mock.calls) == 1


# ---- descriptions are cached per server, UID and key ---------------------------------------------


@pytest.mark.parametrize(
    "other",
    [
        {"server_url": "http://other.test:9997"},
        {"model_uid": "another-uid"},
        {"api_key": "xf-another-key"},
    ],
    ids=["server", "uid", "key"],
)
def test_a_description_is_cached_per_server_uid_and_key(other):
    first = {"server_url": SERVER, "model_uid": EMBED_UID, "api_key": API_KEY}
    second = {**first, **other}
    with responses.RequestsMock() as mock:
        for creds, kind in ((first, "embedding"), (second, "llm")):
            mock.get(
                f"{creds['server_url']}/v1/models/{creds['model_uid']}", json={**EMBED, "model_type": kind}
            )
        kinds = [
            XinferenceClient(parse_credentials(raw_credentials(**c))).describe().model_type
            for c in (first, second)
        ]
        again = XinferenceClient(parse_credentials(raw_credentials(**first))).describe().model_type
        assert len(mock.calls) == 2  # one read each; the third comes from the cache
    assert kinds == ["embedding", "llm"] and again == "embedding"


# ---- a ~/.netrc cannot replace the API key --------------------------------------------------------


@pytest.mark.parametrize("upload", [False, True], ids=["json", "multipart"])
@pytest.mark.parametrize("api_key", [API_KEY, None], ids=["key", "no-key"])
def test_a_netrc_never_replaces_the_api_key(tmp_path, monkeypatch, upload, api_key):
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine xinference.test login daemon password netrc-secret\n", encoding="utf-8")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.setenv("HOME", str(tmp_path))
    with responses.RequestsMock() as mock:
        mock.post(CHAT, json={"ok": True})
        c = client(api_key=api_key)
        if upload:
            c.post_multipart("/v1/chat/completions", {"model": "m"}, {"file": ("a.wav", b"RIFF")}, what="t")
        else:
            c.post_json("/v1/chat/completions", {})
        sent = mock.calls[0].request.headers.get("Authorization")
    assert sent == (f"Bearer {api_key}" if api_key else None)


# ---- one request per embedding call in steady state, images included ------------------------------


def test_image_embeddings_cost_one_request_per_call_in_steady_state():
    from dify_plugin.entities.model.text_embedding import MultiModalContent

    clip = fixture_json("mm_01_clip_get_model.json")
    pictures = fixture_json("mm_03_clip_embed_images.json")
    creds = raw_credentials(model_uid="clip-1")
    png = (ROOT / "tests" / "assets" / "images" / "red-square.png").read_bytes()
    import base64

    documents = [MultiModalContent(content=base64.b64encode(png).decode(), content_type="image")]
    with responses.RequestsMock() as mock:
        mock.get(f"{SERVER}/v1/models/clip-1", json=clip)
        mock.post(f"{SERVER}/v1/embeddings", json={**pictures, "data": pictures["data"][:1]})
        _embedder().validate_credentials("clip", creds)  # what Dify does when the model is added
        mock.calls.reset()
        for _ in range(3):
            _embedder().invoke_multimodal("clip", creds, documents, None, EmbeddingInputType.DOCUMENT)
        assert [c.request.method for c in mock.calls] == ["POST"] * 3


# ---- the form's defaults, as the README states them ---------------------------------------------


@pytest.mark.parametrize(
    ("field", "label"),
    [
        ("invoke_timeout", "Timeout (seconds)"),
        ("max_retries", "Max retries"),
        ("max_chunks", "Texts per request"),
    ],
)
def test_the_readme_states_the_forms_defaults(field, label):
    row = next(
        line for line in README.splitlines() if line.startswith(f"| {label} |") or f"| {label} |" in line
    )
    assert f"default {FIELDS[field]['default']})" in row, row


# ---- numbers the README promises -------------------------------------------------------------------


@pytest.mark.parametrize(("dimensions", "asks"), [(4096, True), (4095, False)])
def test_base64_is_asked_for_from_16384_numbers_in_one_answer(dimensions, asks):
    with responses.RequestsMock() as mock:
        mock.get(f"{SERVER}/v1/models/{EMBED_UID}", json={**EMBED, "dimensions": dimensions})
        vector = [0.5] * dimensions
        mock.add_callback(
            responses.POST,
            f"{SERVER}/v1/embeddings",
            callback=lambda r: (
                200,
                {},
                json.dumps({"data": [{"index": i, "embedding": vector} for i in range(4)]}),
            ),
            content_type="application/json",
        )
        creds = raw_credentials(model_uid=EMBED_UID, max_chunks="4")
        _embedder().invoke("emb", creds, ["a", "b", "c", "d"], None, EmbeddingInputType.DOCUMENT)  # 4 x dims
        body = json.loads(mock.calls[-1].request.body)
    assert (body.get("encoding_format") == "base64") is asks
    assert "16,384 numbers" in README


def test_a_refusal_of_streamed_tools_is_remembered_for_10_minutes(monkeypatch):
    now = [1000.0]
    memo = STREAMED_TOOLS_REFUSED
    monkeypatch.setattr(memo, "_clock", lambda: now[0])
    key = (SERVER, "llm-1")
    memo.put(key, True, REFUSAL_TTL)  # as llm.py remembers a refusal
    now[0] += 599.0
    assert memo.get(key, False)
    now[0] += 1.0
    assert not memo.get(key, False)
    memo.clear()


@pytest.mark.parametrize(
    ("value", "accepted"), [("0.25", True), ("4.0", True), ("0.24", False), ("4.01", False)]
)
def test_tts_speed_is_0_25_to_4(value, accepted):
    if accepted:
        assert parse_credentials(raw_credentials(speed=value)).speed == float(value)
    else:
        with pytest.raises(CredentialsValidateFailedError, match="speed"):
            parse_credentials(raw_credentials(speed=value))
    assert "(0.25–4.0" in FIELDS["speed"]["placeholder"]["en_US"] and "speaking speed (0.25–4.0)" in README


@pytest.mark.parametrize(("asked", "waited"), [("30", 10.0), ("3", 3.0), ("0", 0.0)])
def test_retry_after_is_honoured_up_to_10_seconds(slept, asked, waited):
    with responses.RequestsMock() as mock:
        mock.post(CHAT, status=503, json={"detail": "Model is loading"}, headers={"Retry-After": asked})
        mock.post(CHAT, json={"ok": True})
        assert client(max_retries="2", invoke_timeout="60").post_json("/v1/chat/completions", {}) == {
            "ok": True
        }
    assert slept == [waited]


def test_connection_retries_back_off_exponentially_with_jitter(slept):
    import requests

    with responses.RequestsMock() as mock:
        for _ in range(3):
            mock.post(CHAT, body=requests.exceptions.ConnectionError("Connection refused"))
        mock.post(CHAT, json={"ok": True})
        client(max_retries="3", invoke_timeout="60").post_json("/v1/chat/completions", {})
    assert len(slept) == 3
    for attempt, wait in enumerate(slept):
        base = min(0.5 * 2**attempt, 8.0)  # README: 0.5 s, doubling, at most 8 s, up to 25 % jitter
        assert base <= wait <= base * 1.25, slept


def _zip_of(path: Path, size: int) -> Path:
    import os

    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("blob", os.urandom(size))
    return path


def test_offline_packages_must_stay_under_15_mib(tmp_path):
    mib15 = 15 * 1024 * 1024
    assert size_problems(_zip_of(tmp_path / "small.difypkg", mib15 - 4096)) == []
    assert any("upload cap" in p for p in size_problems(_zip_of(tmp_path / "big.difypkg", mib15)))
    assert re.search(r"over 15 MiB packed", README)
