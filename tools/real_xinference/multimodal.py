"""What the multimodal tests add to the real server: one extra package and two local models.

* a placeholder `qwen_vl_utils` module goes into the cached venv as an add-on layer (its own stamp, so
  the venv's cache key and the multi-minute base install stay as they are): Xinference refuses to launch
  a Qwen3-VL-Reranker unless that module imports (scipy and Pillow are already there), and the real
  package needs torchvision, which breaks transformers under the CPU torch (see the placeholder).
* tiny-clip: a seeded random CLIP built at test time (build_models.py tiny-clip), registered as a custom
  embedding model. Its name must contain "clip": that is how Xinference picks its image path.
* vl-rerank: a folder for the built-in `Qwen3-VL-Reranker-2B` launched with `model_path`: our own
  scoring script (vl_reranker/qwen3_vl_reranker.py) in `scripts/`, the tiny CLIP in `clip/`.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import time
from pathlib import Path

from builds import run_build
from env import cache_lock, log

HERE = Path(__file__).resolve().parent
SCORING_SCRIPT = HERE / "vl_reranker" / "qwen3_vl_reranker.py"
PLACEHOLDER = HERE / "vl_reranker" / "qwen_vl_utils_placeholder.py"
BUILD = HERE / "build_models.py"


def ensure_extras(py: Path) -> float:
    """Put the qwen_vl_utils placeholder into the venv once; seconds spent (0.0 when already there)."""
    digest = hashlib.sha256(PLACEHOLDER.read_bytes()).hexdigest()[:8]
    stamp = py.parent.parent / f".extras-{digest}"
    with cache_lock():
        if stamp.exists():
            return 0.0
        t0 = time.monotonic()
        out = subprocess.run(
            [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        )
        # a real qwen-vl-utils (earlier recipes installed it) would shadow the placeholder and fail to import
        pip = [str(py), "-m", "pip", "--disable-pip-version-check", "uninstall", "-y", "qwen-vl-utils"]
        subprocess.run(pip, capture_output=True, check=False)
        package = Path(out.stdout.strip()) / "qwen_vl_utils"
        shutil.rmtree(package, ignore_errors=True)
        package.mkdir()
        shutil.copy(PLACEHOLDER, package / "__init__.py")
        stamp.write_text(digest)
        took = time.monotonic() - t0
        log(f"qwen_vl_utils placeholder in place ({took:.1f} s)")
        return took


def build(py: Path) -> dict[str, Path]:
    """Paths of the tiny CLIP and of the VL reranker folder, built once into the venv's model cache."""
    models = py.parent.parent / "models"  # inside the venv dir: rebuilt with it
    clip, vl_rerank = models / "tiny-clip", models / "vl-rerank"
    with cache_lock():
        if not (clip / "modules.json").exists():
            _build_clip(py, clip)
        script = vl_rerank / "scripts" / SCORING_SCRIPT.name
        if not script.exists() or script.read_bytes() != SCORING_SCRIPT.read_bytes():
            shutil.rmtree(vl_rerank, ignore_errors=True)
            shutil.copytree(clip, vl_rerank / "clip")
            script.parent.mkdir(parents=True)
            shutil.copy(SCORING_SCRIPT, script)
    return {"clip": clip, "vl_rerank": vl_rerank}


def _build_clip(py: Path, out: Path) -> None:
    run_build(py, BUILD, ["tiny-clip", "-", str(out)], log_name="build-tiny-clip", what="the tiny CLIP")
