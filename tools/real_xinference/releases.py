"""The Xinference releases the real-server tests run against, and what each needs to install and run.

4.1.0 is `make test-real`; the others are `make test-compat` (recipes and the client-visible differences
are in the README's "Tested Xinference releases" and tools/real_xinference/README.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Release:
    version: str
    requirements: Path
    # torchvision from PyPI is a CUDA build that does not load under the CPU torch. 3.x/4.x import it
    # lazily, so uninstalling it is enough; 1.x/2.x import it at server start (deepseek_ocr.py), so its
    # two unguarded fake-op registrations are patched instead.
    torchvision: str  # "uninstall" | "patch"
    # before 3.1 (peft<=0.17.1) only transformers 4 works; the tiny LLMs in tests/assets are saved by
    # transformers 5 and need a tokenizer_config.json that 4.x reads
    transformers4: bool
    auth_by_default: bool  # 3.0+: auth on unless XINFERENCE_AUTH_ADVANCED=0
    # 1.x/2.x leave their worker pool (a multiprocessing child re-parented to init) running after the
    # server process exits; stop() must find and end it
    leaves_worker_pool: bool
    # 4.x prints a one-time setup token that POST /v1/admin/setup needs; 3.x takes the first caller
    setup_token: bool = True

    @property
    def major_minor(self) -> tuple[int, int]:
        major, minor = self.version.split(".")[:2]
        return int(major), int(minor)


DEFAULT = "4.1.0"
RELEASES: dict[str, Release] = {
    "4.1.0": Release("4.1.0", HERE / "requirements.txt", "uninstall", False, True, False),
    "3.2.1": Release(
        "3.2.1",
        HERE / "recipes" / "requirements-3.2.1.txt",
        "uninstall",
        False,
        True,
        False,
        setup_token=False,
    ),
    "2.12.0": Release("2.12.0", HERE / "recipes" / "requirements-2.12.0.txt", "patch", True, False, True),
    "1.17.1": Release("1.17.1", HERE / "recipes" / "requirements-1.17.1.txt", "patch", True, False, True),
}
COMPAT = ("3.2.1", "2.12.0", "1.17.1")  # what `make test-compat` runs, newest first


def release(version: str) -> Release:
    try:
        return RELEASES[version]
    except KeyError:
        raise SystemExit(f"unknown Xinference release {version!r}; known: {', '.join(RELEASES)}") from None


# torchvision/_meta_registrations.py registers fake ops for torchvision::nms / qnms without checking
# that the compiled ops loaded; under the CPU torch that raises at import. Guard them as the others are.
_FAKE_OP = re.compile(r'^@torch\.library\.register_fake\("(torchvision::[a-z_]+)"\)$', re.M)


def patch_torchvision(site_packages: Path) -> int:
    """Guard the unguarded registrations; returns how many were patched (0: nothing to do)."""
    target = site_packages / "torchvision" / "_meta_registrations.py"
    if not target.exists():
        return 0
    text = target.read_text()
    patched, count = _FAKE_OP.subn(
        r'@(torch.library.register_fake("\1") if torchvision.extension._has_ops() else (lambda f: f))', text
    )
    if count:
        target.write_text(patched)
    return count


# What transformers 4.x needs instead of the transformers-5 tokenizer_config.json of the tiny LLMs
# (same tokens; 4.x does not know "TokenizersBackend" nor a list-valued extra_special_tokens).
TOKENIZER_CONFIG_V4 = {
    "tokenizer_class": "PreTrainedTokenizerFast",
    "bos_token": None,
    "eos_token": "<|im_end|>",
    "pad_token": "<|endoftext|>",
    "additional_special_tokens": ["<|im_start|>"],
    "model_max_length": 2048,
}
