"""Our own small Hugging Face → GGUF converter for the tiny Qwen2 test models (tests/assets/models), so
Xinference's llama.cpp engine can serve them. Written on the `gguf` package's writer; it knows exactly one
architecture (Qwen2ForCausalLM with a byte-level BPE tokenizer) and refuses anything else.

What it writes: the Qwen2 hyper-parameters, every tensor under llama.cpp's name (float32: the models are a
few MB), the tokenizer (tokens with their types, merges, the special-token ids) and the model's own
`chat_template.jinja` as `tokenizer.chat_template`, so llama.cpp renders prompts — and parses tool calls
and reasoning — with its jinja path from the template the model was trained on.

usage (in the Xinference venv, where gguf, numpy and safetensors are installed):
  python gguf_convert.py <hf model dir> <out.gguf>      (also writes <out>.json: the header read back)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import gguf
import numpy as np
from safetensors.numpy import load_file

ARCH = "qwen2"
# Hugging Face name (after "model.layers.N.") → llama.cpp name (after "blk.N.")
LAYER_TENSORS = {
    "input_layernorm.weight": "attn_norm.weight",
    "self_attn.q_proj.weight": "attn_q.weight",
    "self_attn.q_proj.bias": "attn_q.bias",
    "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.k_proj.bias": "attn_k.bias",
    "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.v_proj.bias": "attn_v.bias",
    "self_attn.o_proj.weight": "attn_output.weight",
    "post_attention_layernorm.weight": "ffn_norm.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
}
MODEL_TENSORS = {
    "model.embed_tokens.weight": "token_embd.weight",
    "model.norm.weight": "output_norm.weight",
    "lm_head.weight": "output.weight",  # absent when tied: llama.cpp then reuses token_embd
}


def gguf_tensor_name(hf_name: str) -> str:
    if hf_name in MODEL_TENSORS:
        return MODEL_TENSORS[hf_name]
    prefix, _, rest = hf_name.partition(".layers.")
    layer, _, leaf = rest.partition(".")
    if prefix != "model" or not layer.isdigit() or leaf not in LAYER_TENSORS:
        raise ValueError(f"tensor {hf_name!r} has no llama.cpp name in this converter")
    return f"blk.{layer}.{LAYER_TENSORS[leaf]}"


def write_hparams(writer: gguf.GGUFWriter, config: dict) -> None:
    if config.get("architectures") != ["Qwen2ForCausalLM"]:
        raise ValueError(f"only Qwen2ForCausalLM converts, not {config.get('architectures')}")
    rope = config.get("rope_parameters") or {}
    writer.add_context_length(config["max_position_embeddings"])
    writer.add_embedding_length(config["hidden_size"])
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_block_count(config["num_hidden_layers"])
    writer.add_head_count(config["num_attention_heads"])
    writer.add_head_count_kv(config["num_key_value_heads"])
    writer.add_layer_norm_rms_eps(config["rms_norm_eps"])
    writer.add_rope_freq_base(rope.get("rope_theta", config.get("rope_theta", 10000.0)))
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)


def write_tokenizer(writer: gguf.GGUFWriter, model_dir: Path, config: dict) -> None:
    """Byte-level BPE as llama.cpp's "gpt2" tokenizer with the Qwen2 pre-tokenizer regex ("qwen2")."""
    tok = json.loads((model_dir / "tokenizer.json").read_text())
    if tok["model"]["type"] != "BPE":
        raise ValueError("only byte-level BPE tokenizers convert")
    added = {t["id"]: t for t in tok["added_tokens"]}
    by_id = {i: text for text, i in tok["model"]["vocab"].items()} | {
        i: t["content"] for i, t in added.items()
    }
    size = config["vocab_size"]
    tokens, types = [], []
    for i in range(size):  # ids the tokenizer lacks (padding rows of the embedding) become unused tokens
        tokens.append(by_id.get(i, f"[PAD{i}]"))
        if i in added:
            special = added[i].get("special", False)
            types.append(gguf.TokenType.CONTROL if special else gguf.TokenType.USER_DEFINED)
        else:
            types.append(gguf.TokenType.NORMAL if i in by_id else gguf.TokenType.UNUSED)
    merges = [m if isinstance(m, str) else " ".join(m) for m in tok["model"]["merges"]]
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("qwen2")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    ids = {text: i for i, text in enumerate(tokens)}
    tok_config = json.loads((model_dir / "tokenizer_config.json").read_text())
    eos = ids[tok_config["eos_token"]]
    pad = ids.get(tok_config.get("pad_token") or "", eos)
    writer.add_bos_token_id(pad)  # Qwen2 has no BOS; it is never added (below), as in Qwen's own GGUFs
    writer.add_add_bos_token(False)
    writer.add_eos_token_id(eos)
    writer.add_pad_token_id(pad)
    writer.add_chat_template((model_dir / "chat_template.jinja").read_text())


def convert(model_dir: Path, out: Path) -> None:
    config = json.loads((model_dir / "config.json").read_text())
    weights = load_file(str(model_dir / "model.safetensors"))
    partial = out.with_name(out.name + ".partial")
    writer = gguf.GGUFWriter(str(partial), ARCH)
    writer.add_name(model_dir.name)
    write_hparams(writer, config)
    write_tokenizer(writer, model_dir, config)
    for name in sorted(weights):
        writer.add_tensor(gguf_tensor_name(name), np.ascontiguousarray(weights[name], dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    partial.rename(out)
    header = read_header(out)
    out.with_suffix(".json").write_text(json.dumps(header, indent=1))


def read_header(path: Path) -> dict:
    """The values the registration and the tests take from the GGUF, read back from the file itself."""
    reader = gguf.GGUFReader(str(path))

    def value(key: str):
        return reader.fields[key].contents()

    arch = value("general.architecture")
    return {
        "architecture": arch,
        "context_length": value(f"{arch}.context_length"),
        "block_count": value(f"{arch}.block_count"),
        "vocab_size": len(reader.fields["tokenizer.ggml.tokens"].data),
        "tensors": len(reader.tensors),
        "has_chat_template": "tokenizer.chat_template" in reader.fields,
    }


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    convert(Path(sys.argv[1]), Path(sys.argv[2]))
    print(f"wrote {sys.argv[2]}")
