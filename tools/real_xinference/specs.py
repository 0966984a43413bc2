"""Registration specs and launch bodies for the local test models (built in code, model_uri = file://)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STOP = {"stop_token_ids": [2, 0], "stop": ["<|im_end|>", "<|endoftext|>"]}


def _llm_spec(name: str, path: Path, description: str, **extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "version": 2,
        "context_length": 2048,
        "model_name": name,
        "model_lang": ["en"],
        "model_description": description,
        "model_specs": [
            {
                "model_format": "pytorch",
                "model_size_in_billions": "0_01",
                "quantization": "none",
                "model_id": None,
                "model_hub": "huggingface",
                "model_uri": path.resolve().as_uri(),
                "model_revision": None,
            }
        ],
        "cache_config": None,
        "virtualenv": None,
        "is_builtin": False,
    }
    spec.update(extra)
    return spec


def embedding_spec(minilm: Path) -> dict[str, Any]:
    return {
        "version": 2,
        "model_name": "test-minilm-embed",
        "dimensions": 384,
        "max_tokens": 256,
        "language": ["en"],
        "model_specs": [
            {
                "model_format": "pytorch",
                "model_hub": "huggingface",
                "model_id": None,
                "model_uri": minilm.resolve().as_uri(),
                "model_revision": None,
                "quantization": "none",
            }
        ],
        "cache_config": None,
        "virtualenv": None,
        "is_builtin": False,
    }


def rerank_spec(path: Path) -> dict[str, Any]:
    spec = embedding_spec(path)
    del spec["dimensions"]
    spec.update(model_name="test-minilm-rerank", type="normal", max_tokens=512)
    return spec


def chat_spec(name: str, path: Path, description: str) -> dict[str, Any]:
    """A chat + tools model: `tools` needs a built-in tool-call family (qwen2.5-instruct)."""
    return _llm_spec(
        name,
        path,
        description,
        model_ability=["generate", "chat", "tools"],
        model_family="qwen2.5-instruct",
        chat_template=(path / "chat_template.jinja").read_text(),
        tool_parser="qwen",
        **STOP,
    )


def generate_spec(name: str, path: Path) -> dict[str, Any]:
    """Generate-only twin: 4.1.0's /v1/completions fails on a chat-ability Transformers model."""
    return _llm_spec(
        name,
        path,
        "same tiny weights, generate-only (for /v1/completions)",
        model_ability=["generate"],
        model_family="qwen2.5",
        chat_template=None,
        **STOP,
    )


def reasoning_spec(path: Path) -> dict[str, Any]:
    return _llm_spec(
        "test-tiny-reasoning",
        path,
        "tiny trained Qwen2 with a Qwen3-style enable_thinking template, for reasoning API tests",
        model_ability=["generate", "chat", "tools", "reasoning", "hybrid"],
        model_family="qwen3",
        chat_template=(path / "chat_template.jinja").read_text(),
        reasoning_start_tag="<think>",
        reasoning_end_tag="</think>",
        tool_parser="qwen",
        **STOP,
    )


def tiny_clip_spec(path: Path) -> dict[str, Any]:
    """The tiny random CLIP as a custom embedding model; "clip" in the name selects the image path."""
    spec = embedding_spec(path)
    spec.update(model_name="test-tiny-clip", dimensions=16, max_tokens=77, model_ability=["embed_vision"])
    return spec


def vl_rerank_builtin() -> dict[str, Any]:
    """The built-in Qwen3-VL-Reranker-2B: not registered, launched with model_path (see multimodal.py)."""
    return {"model_name": "Qwen3-VL-Reranker-2B"}


@dataclass
class Launch:
    """One model to launch: its uid (what the tests use), registration and launch options."""

    uid: str
    model_type: str  # embedding | rerank | LLM (Xinference's spelling)
    spec: dict[str, Any]
    options: dict[str, Any] = field(default_factory=dict)
    builtin: bool = False  # a built-in name: launched, never registered

    @property
    def name(self) -> str:
        return self.spec["model_name"]

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"model_uid": self.uid, "model_name": self.name, "model_type": self.model_type}
        if self.model_type == "LLM":
            body.update(
                model_engine="Transformers",
                model_format="pytorch",
                model_size_in_billions="0_01",
                quantization="none",
            )
        else:
            body["model_engine"] = "sentence_transformers"
        body.update(self.options)
        return body


def test_models(models: dict[str, Path]) -> dict[str, Launch]:
    """Role → model for the open-server tests. `models` holds paths: minilm, rerank, tools, reasoning."""
    reasoning = reasoning_spec(models["reasoning"])
    return {
        "embed": Launch("test-embed", "embedding", embedding_spec(models["minilm"])),
        "rerank": Launch("test-rerank", "rerank", rerank_spec(models["rerank"])),
        "llm": Launch(
            "test-tiny-qwen2-tools",
            "LLM",
            chat_spec(
                "test-tiny-qwen2-tools", models["tools"], "tiny trained Qwen2: fixed answer, real tool calls"
            ),
        ),
        "llm_base": Launch(
            "test-llm-base", "LLM", generate_spec("test-tiny-qwen2-tools-base", models["tools"])
        ),
        # launch A: reasoning parser on, thinking on by default (Qwen3-like)
        "reasoning": Launch(
            "test-reasoning", "LLM", reasoning, {"reasoning_content": True, "enable_thinking": True}
        ),
        # launch C: parser on, thinking left to the Transformers engine's default (off)
        "reasoning_default": Launch("test-reasoning-default", "LLM", reasoning, {"reasoning_content": True}),
        **multimodal_models(models),
    }


def multimodal_models(models: dict[str, Path]) -> dict[str, Launch]:
    """Image embedding and image rerank (models: clip, vl_rerank; see multimodal.py)."""
    if "clip" not in models:
        return {}
    vl_options = {"model_path": str(models["vl_rerank"])}
    return {
        "clip": Launch("test-clip-embed", "embedding", tiny_clip_spec(models["clip"])),
        "vl_rerank": Launch("test-vl-rerank", "rerank", vl_rerank_builtin(), vl_options, builtin=True),
    }
