"""Build the local models that are not shipped ready-made. Runs in the Xinference venv (Python 3.11).

usage: python build_models.py rerank <minilm_dir> <out_dir>
       python build_models.py random-llm <tokenizer_dir> <out_dir>
       python build_models.py tiny-clip - <out_dir>

* rerank: a sentence-transformers CrossEncoder = the MiniLM encoder plus a seeded random one-logit head.
  Its scores (~0.5) are deterministic and correctly shaped, but carry no meaning.
* random-llm: a 2-layer random-weight Qwen2 (hidden 64) on the tiny-qwen2-tools tokenizer; its greedy
  output is arbitrary text that runs to max_tokens: the `test-llm` recordings (`make fixtures`) and the long
  writer test_faults.py kills mid-stream (built by local_models.random_llm).
* tiny-clip: a seeded random CLIP (hidden 32, 2 layers, 32x32 images in 8x8 patches, 16-dim projection)
  with a byte-level tokenizer and no merges, saved as a sentence-transformers directory. No download.
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


def _byte_alphabet() -> list[str]:
    """The 256 printable stand-ins GPT-2/CLIP byte-level BPE uses for the bytes 0..255."""
    printable = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAD), *range(0xAE, 0x100)]
    extra = iter(range(256, 512))
    return [chr(b) if b in printable else chr(next(extra)) for b in range(256)]


def build_tiny_clip(_unused: str, out: str) -> None:
    """Random weights are enough: the tests check shapes, order and that images differ, not meaning."""
    import json

    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.base.modules import Transformer
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor, CLIPTokenizer

    torch.manual_seed(0)
    hf_dir = out + ".hf"
    os.makedirs(hf_dir, exist_ok=True)
    alphabet = _byte_alphabet()
    vocab = {token: n for n, token in enumerate([*alphabet, *(c + "</w>" for c in alphabet)])}
    start, end = "<|startoftext|>", "<|endoftext|>"
    vocab[start], vocab[end] = len(vocab), len(vocab) + 1
    with open(os.path.join(hf_dir, "vocab.json"), "w") as f:
        json.dump(vocab, f)
    tokenizer = CLIPTokenizer(vocab=vocab, merges=[])
    images = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    text = dict(vocab_size=len(vocab), max_position_embeddings=77)
    text.update(bos_token_id=vocab[start], eos_token_id=vocab[end], pad_token_id=vocab[end])
    tower = dict(hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4)
    config = CLIPConfig(
        text_config={**tower, **text},
        vision_config={**tower, "image_size": 32, "patch_size": 8},
        projection_dim=16,
    )
    CLIPModel(config).eval().save_pretrained(hf_dir)
    CLIPProcessor(image_processor=images, tokenizer=tokenizer).save_pretrained(hf_dir)
    SentenceTransformer(modules=[Transformer(hf_dir)]).save(out)
    shutil.rmtree(hf_dir)


if __name__ == "__main__":
    kind, src, dst = sys.argv[1:4]
    tmp = dst + ".partial"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    builders = {"rerank": build_rerank, "random-llm": build_random_llm, "tiny-clip": build_tiny_clip}
    builders[kind](src, tmp)
    shutil.rmtree(dst, ignore_errors=True)
    os.rename(tmp, dst)
    print(f"built {kind} model in {dst}")
