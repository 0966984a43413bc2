"""The import graph holds the house's shape: no cycles in models/, tools/, tests/ (type-only and
function-level imports included), no model type reaching into another type's folder, and the shared
folder importing no model type."""

from pathlib import Path

import pytest

from tests.layout.import_graph import cycles, graph

MODEL_TYPES = ("llm", "text_embedding", "rerank", "speech2text", "tts")
PRODUCT = ("models", "main.py", "run_modes.py")


@pytest.mark.parametrize("roots", [PRODUCT, ("tools",), ("tests",), ("bench",)], ids=str)
def test_no_import_cycles(roots):
    assert cycles(graph(*roots)) == []


def test_no_import_cycles_across_the_whole_project():
    assert cycles(graph(*PRODUCT, "tools", "tests", "bench")) == []


def _model_type(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "models" and parts[1] in MODEL_TYPES else None


def test_no_model_type_imports_a_module_of_another_type():
    crossings = [
        f"{module} -> {target}"
        for module, targets in graph(*PRODUCT).items()
        for target in targets
        if _model_type(module) and _model_type(target) not in (None, _model_type(module))
    ]
    assert crossings == []


def test_the_shared_folder_imports_no_model_type():
    shared = {m: t for m, t in graph(*PRODUCT).items() if m.startswith("models._xinference")}
    assert {
        m: sorted(x for x in t if _model_type(x)) for m, t in shared.items() if any(map(_model_type, t))
    } == {}


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_the_graph_sees_type_only_late_and_script_style_imports(tmp_path):
    """The checker itself: a cycle held up by TYPE_CHECKING, by a late import inside a function, or by a
    script importing its sibling by bare name is still a cycle."""
    _write(
        tmp_path,
        {
            "tools/__init__.py": "",
            "tools/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from tools.b import B\n",
            "tools/b.py": "from tools import a\nclass B: ...\n",
            "tools/c.py": "def late():\n    from tools.d import x\n",
            "tools/d.py": "from tools.c import late\nx = 1\n",
            "tools/scripts/e.py": "import f\n",
            "tools/scripts/f.py": "from e import *\n",
            "tools/ok.py": "import json\nfrom tools import a\n",
        },
    )
    found = cycles(graph("tools", repo=tmp_path))
    assert sorted(found) == [
        ["tools.a", "tools.b"],
        ["tools.c", "tools.d"],
        ["tools.scripts.e", "tools.scripts.f"],
    ]
