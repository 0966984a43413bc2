"""Build the local models that are not shipped ready-made. Runs in the Xinference venv (Python 3.11).

usage: python build_models.py rerank <minilm_dir> <out_dir>
       python build_models.py random-llm <tokenizer_dir> <out_dir>

* rerank: a sentence-transformers CrossEncoder = the MiniLM encoder plus a seeded random one-logit head.
  Its scores (~0.5) are deterministic and correctly shaped, but carry no meaning.
* random-llm: a 2-layer random-weight Qwen2 (hidden 64) on the tiny-qwen2-tools tokenizer; its greedy
  output is arbitrary text that runs to max_tokens. Only `make fixtures` uses it (the `test-llm` recordings).
"""

from __future__ import annotations

import os
import shutil
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def build_rerank(minilm: str, out: str) -> None:
    import torch
    from transformers import AutoTokenizer, BertForSequenceClassification

    torch.manual_seed(0)
    model = BertForSequenceClassification.from_pretrained(minilm, num_labels=1)
    model.save_pretrained(out)
    AutoTokenizer.from_pretrained(minilm).save_pretrained(out)


def build_random_llm(tokenizer_dir: str, out: str) -> None:
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(0)
    config = Qwen2Config(
        vocab_size=2048,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        initializer_range=0.5,  # varied, visible greedy text instead of one repeated token
        bos_token_id=0,
        eos_token_id=2,
        pad_token_id=0,
    )
    model = Qwen2ForCausalLM(config)
    model.save_pretrained(out)
    for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "generation_config.json"):
        src = os.path.join(tokenizer_dir, name)
        if os.path.exists(src):
            shutil.copy(src, os.path.join(out, name))


if __name__ == "__main__":
    kind, src, dst = sys.argv[1:4]
    tmp = dst + ".partial"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    {"rerank": build_rerank, "random-llm": build_random_llm}[kind](src, tmp)
    shutil.rmtree(dst, ignore_errors=True)
    os.rename(tmp, dst)
    print(f"built {kind} model in {dst}")
