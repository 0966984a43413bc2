"""The audio layer of `make test-real`: a tiny Whisper (speech-to-text) and a tiny Kokoro (text-to-speech).

* Packages: requirements-audio.txt, installed into the existing real-server venv as a second, separately
  stamped layer (layers.py: the base venv's cache key stays the same, requirements.txt is a constraint so
  no base package moves). `ffmpeg` (from imageio-ffmpeg) is linked into the venv's bin/, which server.py puts
  first on the server's PATH: Xinference's Whisper path decodes every upload with it.
* Models: built at test time by build_audio_models.py into the venv's models/ folder (random weights, no
  download, nothing committed), keyed by that script's hash so a changed recipe rebuilds them.
* Registration specs and launch bodies (Kokoro needs `lang_code "e"`: the default English phonemiser
  downloads a spaCy model and fails offline).
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import Any

from builds import run_build
from env import HERE, cache_lock, log, offline_env
from layers import ensure_layer
from specs import Launch

AUDIO_REQUIREMENTS = HERE / "requirements-audio.txt"
BUILD = HERE / "build_audio_models.py"
AUDIO_RECIPE_VERSION = "1"  # bump when the install steps below change
WHISPER_NAME = "test-tiny-whisper"
KOKORO_NAME = "test-tiny-kokoro"


def _key(*parts: bytes) -> str:
    return hashlib.sha256(b"\0".join(parts)).hexdigest()[:12]


def ensure_audio(py: Path) -> float:
    """Install the audio packages into the venv of `py` once; returns the seconds spent (0 when cached)."""
    what = "kokoro, misaki, soundfile, imageio-ffmpeg"
    return ensure_layer(py, "audio", AUDIO_REQUIREMENTS, AUDIO_RECIPE_VERSION, what=what, after=_link_ffmpeg)


def _link_ffmpeg(py: Path) -> None:
    """bin/ffmpeg in the venv → imageio-ffmpeg's static binary."""
    out = subprocess.run(
        [str(py), "-c", "import imageio_ffmpeg; print(imageio_ffmpeg.get_ffmpeg_exe())"],
        capture_output=True,
        text=True,
        check=True,
        env=offline_env(),
    )
    link = py.parent / "ffmpeg"
    link.unlink(missing_ok=True)
    link.symlink_to(out.stdout.strip())


def build_audio_models(py: Path) -> dict[str, Path]:
    """Paths of the tiny Whisper and Kokoro folders, built once per recipe into the venv's models/."""
    root = py.parent.parent / "models" / f"audio-{_key(BUILD.read_bytes())}"
    models = {"whisper": root / "tiny-whisper", "kokoro": root / "tiny-kokoro"}
    with cache_lock():
        for kind, path in models.items():
            if not (path / "config.json").exists():
                _build(py, kind, path)
    return models


def _build(py: Path, kind: str, out_dir: Path) -> None:
    run_build(py, BUILD, [kind, str(out_dir)], log_name=f"build-{kind}", what=f"the tiny {kind}")
    size = sum(p.stat().st_size for p in out_dir.rglob("*") if p.is_file())
    log(f"the tiny {kind} takes {size / 1e6:.1f} MB")


def _audio_spec(name: str, family: str, path: Path, *, ability: str, engine: str, langs: list[str]) -> dict:
    return {
        "version": 2,
        "model_name": name,
        "model_family": family,
        "model_id": None,
        "model_revision": None,
        "model_uri": path.resolve().as_uri(),
        "multilingual": True,
        "model_lang": langs,
        "model_ability": [ability],
        "engine": engine,
        "model_format": "pytorch",
        "quantization": "none",
        "virtualenv": None,
    }


def audio_launches(models: dict[str, Path]) -> dict[str, Launch]:
    """Role → launch for the audio tests: `stt` (Whisper, transformers) and `tts` (Kokoro, PyTorch)."""
    whisper = _audio_spec(
        WHISPER_NAME,
        "whisper",
        models["whisper"],
        ability="audio2text",
        engine="transformers",
        langs=["en", "zh"],
    )
    kokoro = _audio_spec(
        KOKORO_NAME, "Kokoro", models["kokoro"], ability="text2audio", engine="PyTorch", langs=["en"]
    )
    # One torch thread per model process: with the machine's cores busy (other model processes, pytest,
    # the plugin), OpenMP threads spin against each other; a 1.5 s clip then took 65-100 s, with one
    # thread 4-6 s (measured on the 2-core machine under load).
    envs = {"envs": {"OMP_NUM_THREADS": "1"}}
    tts_options: dict[str, Any] = {"model_engine": "PyTorch", "lang_code": "e", **envs}
    return {
        "stt": Launch("test-stt", "audio", whisper, {"model_engine": "transformers", **envs}),
        "tts": Launch("test-tts", "audio", kokoro, tts_options),
    }
