"""Placeholder `qwen_vl_utils` for the test venv of `make test-real` (installed by multimodal.py).

Xinference 4.1.0 launches a Qwen3-VL-Reranker only when `import qwen_vl_utils` succeeds. The real package
imports torchvision at once, and no torchvision wheel here works with the CPU torch (it breaks every
transformers model). The scoring script that stands in for the model (qwen3_vl_reranker.py) never uses
this module; anything that does gets a clear error instead of a silent stand-in.
"""


def __getattr__(name: str):
    raise ImportError(f"qwen_vl_utils.{name}: this is the test placeholder, not the real package")
