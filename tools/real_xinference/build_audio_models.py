"""Build the tiny audio models. Runs in the Xinference venv (Python 3.11); no download, random weights.

usage: python build_audio_models.py whisper <out_dir>
       python build_audio_models.py kokoro <out_dir>

* whisper: a 0.4 M-parameter Whisper (d_model 64, 2+2 layers) with a byte-level tokenizer that has
  Whisper's special tokens in their real order (the 100 languages, the tasks, <|notimestamps|> last, then
  the 1501 timestamps), so transformers' ASR pipeline, `language` and word timestamps all work. Seeded:
  the same file always gives the same (meaningless, printable-ASCII) text.
* kokoro: a kokoro 0.9.4 KModel config shrunk as far as kokoro allows (its decoder widths are fixed,
  ~58 M parameters), with an EMPTY state dict as kokoro-v1_0.pth: KModel loads only the keys it finds, so
  the model process keeps the weights its own constructor draws. 1 KB on disk instead of 226 MB (fp32) or
  113 MB (fp16); the weights are random either way, and Kokoro's noise source makes every answer differ
  anyway. Plus a few voice packs (voices/<name>.pt), seeded.
"""

from __future__ import annotations

import json
import os
import shutil
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

WHISPER_CONTROL = ["<|translate|>", "<|transcribe|>", "<|startoflm|>", "<|startofprev|>", "<|nospeech|>"]
NO_TIMESTAMPS = "<|notimestamps|>"
END_OF_TEXT = "<|endoftext|>"
KOKORO_VOICES = ("af_heart", "af_alloy", "am_adam", "bf_emma", "ef_dora")


def _byte_symbols() -> dict[int, str]:
    """GPT-2's byte → printable character map, which byte-level BPE vocabularies are written in."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    chars = list(printable)
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            chars.append(256 + extra)
            extra += 1
    return {byte: chr(char) for byte, char in zip(printable, chars, strict=True)}


def _whisper_tokenizer():
    from tokenizers import AddedToken
    from transformers import WhisperTokenizer
    from transformers.models.whisper.tokenization_whisper import LANGUAGES

    vocab = {symbol: byte for byte, symbol in _byte_symbols().items()}
    vocab[END_OF_TEXT] = 256
    # pad_token: the pipeline batches (batch_size 16) and refuses a tokenizer without one
    tokenizer = WhisperTokenizer(vocab=vocab, merges=[], pad_token=END_OF_TEXT)
    specials = [END_OF_TEXT, "<|startoftranscript|>", *(f"<|{c}|>" for c in LANGUAGES)]
    specials += [*WHISPER_CONTROL, NO_TIMESTAMPS]
    tokens = [AddedToken(t, special=True, normalized=False) for t in specials]
    tokenizer.add_special_tokens({"additional_special_tokens": tokens})
    stamps = [AddedToken(f"<|{i * 0.02:.2f}|>", special=False, normalized=False) for i in range(1501)]
    tokenizer.add_tokens(stamps)
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in specials}
    # the tokenizer takes the first timestamp id to be the last special id + 1
    assert tokenizer.all_special_ids[-1] == ids[NO_TIMESTAMPS], tokenizer.all_special_ids[-5:]
    return tokenizer, ids, LANGUAGES


def build_whisper(out: str) -> None:
    import torch
    from transformers import (
        GenerationConfig,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
    )

    tokenizer, ids, languages = _whisper_tokenizer()
    eot, start = ids[END_OF_TEXT], ids["<|startoftranscript|>"]
    first_ids = [220, eot]  # never a leading space or an immediate end: the text is never empty
    config = WhisperConfig(
        vocab_size=len(tokenizer),
        num_mel_bins=80,
        d_model=64,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=4,
        decoder_attention_heads=4,
        encoder_ffn_dim=128,
        decoder_ffn_dim=128,
        max_source_positions=1500,
        max_target_positions=128,
        init_std=0.5,  # varied output instead of one repeated token
        pad_token_id=eot,
        bos_token_id=eot,
        eos_token_id=eot,
        decoder_start_token_id=start,
        begin_suppress_tokens=first_ids,
        suppress_tokens=[],
    )
    torch.manual_seed(0)
    model = WhisperForConditionalGeneration(config).eval()
    controls = [i for t, i in ids.items() if t != END_OF_TEXT]
    unprintable = [b for b in range(256) if b < 32 or b >= 127]
    model.generation_config = GenerationConfig(
        decoder_start_token_id=start,
        bos_token_id=eot,
        eos_token_id=eot,
        pad_token_id=eot,
        max_length=40,
        # Xinference always passes task (and language when given): these maps must exist
        is_multilingual=True,
        lang_to_id={f"<|{c}|>": ids[f"<|{c}|>"] for c in languages},
        task_to_id={"transcribe": ids["<|transcribe|>"], "translate": ids["<|translate|>"]},
        no_timestamps_token_id=ids[NO_TIMESTAMPS],
        prev_sot_token_id=ids["<|startofprev|>"],
        max_initial_timestamp_index=50,
        begin_suppress_tokens=first_ids,
        suppress_tokens=controls + unprintable,  # printable-ASCII gibberish, no control tokens mid-text
        alignment_heads=[[1, 0], [1, 1]],  # word timestamps need them
        return_timestamps=False,
    )
    features = WhisperFeatureExtractor(feature_size=80, sampling_rate=16000, hop_length=160, chunk_length=30)
    model.save_pretrained(out)
    WhisperProcessor(feature_extractor=features, tokenizer=tokenizer).save_pretrained(out)
    print("whisper parameters:", sum(p.numel() for p in model.parameters()))


def _kokoro_vocab() -> dict[str, int]:
    punctuation = list(';:,.!?¡¿—…"«»“” ')
    latin = [chr(c) for c in (*range(ord("a"), ord("z") + 1), *range(ord("A"), ord("Z") + 1))]
    ipa = list(
        "ɑɐɒæɓʙβɔɕçɗɖðʤəɘɚɛɜɝɞɟʄɡɠɢʛɦɧħɥʜɨɪʝɭɬɫɮʟɱɯɰŋɳɲɴøɵɸθœɶʘɹɺɾɻʀʁɽʂʃʈʧʉʊʋⱱʌɣɤʍχʎʏʑʐʒʔʡʕʢǀǁǂǃ"
        "ˈˌːˑʼʴʰʱʲʷˠˤ˞↓↑→↗↘ᵻ'̩̃"
    )
    vocab: dict[str, int] = {}
    for symbol in punctuation + latin + ipa:
        if symbol not in vocab and len(vocab) < 177:
            vocab[symbol] = len(vocab) + 1  # 0 is the boundary/pad token
    return vocab


def build_kokoro(out: str) -> None:
    import torch

    # style_dim 128, hidden_dim 512 and upsample_initial_channel 512 are hard-coded widths in kokoro
    config = {
        "istftnet": {
            "upsample_kernel_sizes": [20, 12],
            "upsample_rates": [10, 6],
            "gen_istft_hop_size": 5,
            "gen_istft_n_fft": 20,
            "resblock_dilation_sizes": [[1, 3, 5]],
            "resblock_kernel_sizes": [3],
            "upsample_initial_channel": 512,
        },
        "dim_in": 64,
        "dropout": 0.2,
        "hidden_dim": 512,
        "max_conv_dim": 512,
        "max_dur": 4,  # short durations: short audio, fast answers
        "multispeaker": True,
        "n_layer": 1,
        "n_mels": 80,
        "n_token": 178,
        "style_dim": 128,
        "text_encoder_kernel_size": 5,
        "plbert": {
            "hidden_size": 32,
            "num_attention_heads": 2,
            "intermediate_size": 64,
            "max_position_embeddings": 512,
            "num_hidden_layers": 1,
            "dropout": 0.1,
            "embedding_size": 32,
        },
        "vocab": _kokoro_vocab(),
    }
    with open(os.path.join(out, "config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, ensure_ascii=False, indent=1)
    torch.save({}, os.path.join(out, "kokoro-v1_0.pth"))  # the file name Xinference's loader opens
    os.makedirs(os.path.join(out, "voices"))
    generator = torch.Generator().manual_seed(1)
    for name in KOKORO_VOICES:  # Xinference looks for voices/<voice>.pt before asking the Hub
        pack = torch.randn(510, 1, 256, generator=generator) * 0.1
        torch.save(pack, os.path.join(out, "voices", f"{name}.pt"))
    print("kokoro voices:", ", ".join(KOKORO_VOICES))


if __name__ == "__main__":
    kind, dst = sys.argv[1:3]
    tmp = dst + ".partial"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    {"whisper": build_whisper, "kokoro": build_kokoro}[kind](tmp)
    shutil.rmtree(dst, ignore_errors=True)
    os.rename(tmp, dst)
    print(f"built {kind} in {dst}")
