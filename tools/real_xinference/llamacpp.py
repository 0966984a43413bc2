"""The llama.cpp layer of `make test-real`: Xinference's `llama.cpp` engine (the `xllamacpp` binding) serving
the two tiny test LLMs converted to GGUF at test time.

* Packages: requirements-llamacpp.txt (xllamacpp, gguf), installed into the existing real-server venv as
  another separately stamped layer, with requirements.txt as a constraint (the base venv's key and
  packages stay as they are).
* Models: gguf_convert.py (our own converter) writes `tests/assets/models/<name>` as one float32 GGUF
  into the venv's models/gguf-<hash of the converter and the source files>/ (nothing is committed, nothing
  downloaded), plus `<name>.json`: the header values read back from the GGUF (context length), which the
  registration and the tests use.
* Registration: custom `ggufv2` LLMs launched with `model_engine: llama.cpp` — the tools model with the
  `tools` ability, the reasoning model also `reasoning` + `hybrid` (its template has the enable_thinking
  switch and `<tool_call>` markup, from which llama.cpp picks its own tool-call and reasoning parsers).
  The context length registered is the one read back from the GGUF.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from builds import run_build
from env import HERE, cache_lock
from layers import ensure_layer
from local_models import ASSETS
from specs import STOP, Launch

LLAMACPP_REQUIREMENTS = HERE / "requirements-llamacpp.txt"
CONVERTER = HERE / "gguf_convert.py"
RECIPE_VERSION = "1"  # bump when the install steps below change
MODELS = {"gguf_tools": "tiny-qwen2-tools", "gguf_reasoning": "tiny-qwen3-reasoning"}
QUANTIZATION = "F32"
# One thread per model process: the 2-core machine also runs the server, pytest and the plugin.
ENGINE = {"model_engine": "llama.cpp", "model_format": "ggufv2", "quantization": QUANTIZATION, "n_threads": 1}


def _key(*parts: bytes) -> str:
    return hashlib.sha256(b"\0".join(parts)).hexdigest()[:12]


def ensure_llamacpp(py: Path) -> float:
    """Install xllamacpp and gguf into the venv of `py` once; seconds spent (0.0 when cached)."""
    return ensure_layer(py, "llamacpp", LLAMACPP_REQUIREMENTS, RECIPE_VERSION, what="xllamacpp, gguf")


def build_ggufs(py: Path) -> dict[str, Path]:
    """Role → folder holding `<name>.gguf` and `<name>.json`, converted once per converter/asset version."""
    sources = [CONVERTER.read_bytes()]
    for name in MODELS.values():
        sources += [p.read_bytes() for p in sorted((ASSETS / name).iterdir()) if p.is_file()]
    root = py.parent.parent / "models" / f"gguf-{_key(*sources)}"
    folders = {role: root / name for role, name in MODELS.items()}
    with cache_lock():
        for role, folder in folders.items():
            name = MODELS[role]
            if not (folder / f"{name}.json").exists():
                folder.mkdir(parents=True, exist_ok=True)
                args = [str(ASSETS / name), str(folder / f"{name}.gguf")]
                run_build(py, CONVERTER, args, log_name=f"build-{name}-gguf", what=f"{name}.gguf")
    return folders


def gguf_header(folder: Path) -> dict[str, Any]:
    """What the converter read back from the GGUF it wrote (architecture, context length, …)."""
    return json.loads((folder / f"{folder.name}.json").read_text())


def _gguf_spec(name: str, folder: Path, description: str, **extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "version": 2,
        "context_length": gguf_header(folder)["context_length"],
        "model_name": name,
        "model_lang": ["en"],
        "model_description": description,
        "model_specs": [
            {
                "model_format": "ggufv2",
                "model_size_in_billions": "0_01",
                "quantization": QUANTIZATION,
                "model_id": None,
                "model_hub": "huggingface",
                "model_uri": folder.resolve().as_uri(),
                "model_file_name_template": f"{folder.name}.gguf",
                "model_revision": None,
            }
        ],
        "chat_template": (ASSETS / folder.name / "chat_template.jinja").read_text(),
        "tool_parser": "qwen",
        "cache_config": None,
        "virtualenv": None,
        "is_builtin": False,
        **STOP,
    }
    spec.update(extra)
    return spec


def llamacpp_launches(models: dict[str, Path], *, with_parser: bool = False) -> dict[str, Launch]:
    """Role → launch on the llama.cpp engine: `gguf_llm` (tools) and `gguf_reasoning` (thinking on by
    default, reasoning split by llama.cpp alone). `with_parser` (the recorder) adds
    `gguf_reasoning_parser`, launched with Xinference's reasoning parser too: 4.1.0 then parses the
    answer llama.cpp has already split again and streams all of it as reasoning (the fixtures show it)."""
    tools = _gguf_spec(
        "test-gguf-qwen2-tools",
        models["gguf_tools"],
        "the tiny tools model converted to GGUF, on llama.cpp",
        model_ability=["generate", "chat", "tools"],
        model_family="qwen2.5-instruct",
    )
    reasoning = _gguf_spec(
        "test-gguf-reasoning",
        models["gguf_reasoning"],
        "the tiny reasoning model converted to GGUF, on llama.cpp",
        model_ability=["generate", "chat", "tools", "reasoning", "hybrid"],
        model_family="qwen3",
        reasoning_start_tag="<think>",
        reasoning_end_tag="</think>",
    )
    launches = {
        "gguf_llm": Launch("test-gguf-llm", "LLM", tools, dict(ENGINE)),
        "gguf_reasoning": Launch(
            "test-gguf-reasoning", "LLM", reasoning, {**ENGINE, "enable_thinking": True}
        ),
    }
    if with_parser:
        options = {**ENGINE, "reasoning_content": True, "enable_thinking": True}
        launches["gguf_reasoning_parser"] = Launch("test-gguf-reasoning-parser", "LLM", reasoning, options)
    return launches
