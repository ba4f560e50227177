#!/usr/bin/env python3
"""Makes tiny Qwen2 / Qwen2-MoE checkpoints with transformers, and what llama.cpp's converter writes for them.

    python3 Fixtures/scripts/make_convert_fixtures.py --llama-cpp /path/to/llama.cpp

Writes:
- Fixtures/checkpoints/<name>/: HF model directories saved by transformers (`save_pretrained`), random weights
  (seeded), a small byte-level BPE tokenizer shaped exactly like Qwen2's (Qwen2's tokenizer.json with the vocabulary
  cut to 256 byte tokens + 40 merges + its 3 added tokens at 296-298, config vocab 320), tokenizer_config.json with
  Qwen2-Instruct's ChatML template, generation_config.json.
    q2-tied     qwen2, hidden 32, 2 layers, 2 heads, 2 KV heads, FFN 64, tied embeddings, BF16, 2024 config layout
    q2-untied   qwen2, hidden 48 (not a multiple of 32: q8_0 falls back to F16), 4 heads, 1 KV head, untied, F32
    q2-yarn     qwen2, hidden 32, YaRN x4 from 128, F16, transformers 5 config layout (rope_parameters)
    q2moe       qwen2moe, hidden 32, 2 layers, 4 experts top-2, expert FFN 48 (q8_0 falls back for ffn_down_exps),
                shared expert 64, untied, BF16, in three shards
- Fixtures/convert-golden/<name>.<outtype>.gguf: the reference converter's output for outtypes f32, f16, bf16,
  q8_0 (and <name>.vocab.gguf for --vocab-only), made by the convert_hf_to_gguf.py vendored in llama-cpp-python's
  sdist (`--llama-cpp` points at that llama.cpp tree; its own gguf-py is used).

The reference picks `tokenizer.ggml.pre` by hashing its tokenizer's output on a probe text; the tiny vocabulary
gives an unknown hash, so this script runs the converter with `get_vocab_base_pre` answering "qwen2" (what it
answers for real Qwen2 tokenizers). Everything else is the unmodified converter.
Made with torch, transformers, safetensors, numpy and llama-cpp-python 0.3.36's llama.cpp (versions recorded in
Fixtures/convert-golden/README.md).
"""
import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch

from tiny_vocab import byte_tokens_and_merges

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHECKPOINTS = ROOT / "checkpoints"
GOLDEN = ROOT / "convert-golden"
VOCAB = 320
CHAT_TEMPLATE = json.loads((ROOT / "tokenizers" / "qwen2" / "tokenizer_config.json").read_text())["chat_template"]


def byte_level_vocab():
    """The shared tiny vocabulary (tiny_vocab.py) as a vocab dict, and its merges."""
    tokens, merges = byte_tokens_and_merges()
    return {t: i for i, t in enumerate(tokens)}, merges


def write_tokenizer(directory, eos):
    import zstandard
    real = json.loads(zstandard.ZstdDecompressor().decompress(
        (ROOT / "tokenizers" / "qwen2" / "tokenizer.json.zst").read_bytes(), max_output_size=1 << 30))
    vocab, merges = byte_level_vocab()
    real["model"]["vocab"] = vocab
    real["model"]["merges"] = merges
    for i, t in enumerate(real["added_tokens"]):
        t["id"] = 296 + i
    (directory / "tokenizer.json").write_text(json.dumps(real, ensure_ascii=False, indent=2) + "\n")
    added = {str(t["id"]): {k: t[k] for k in ["content", "lstrip", "normalized", "rstrip", "single_word", "special"]}
             for t in real["added_tokens"]}
    config = {"add_bos_token": False, "add_prefix_space": False, "added_tokens_decoder": added,
              "additional_special_tokens": ["<|im_start|>", "<|im_end|>"], "bos_token": None,
              "chat_template": CHAT_TEMPLATE, "clean_up_tokenization_spaces": False, "eos_token": eos,
              "errors": "replace", "model_max_length": 512, "pad_token": "<|endoftext|>", "split_special_tokens": False,
              "tokenizer_class": "Qwen2Tokenizer", "unk_token": None}
    (directory / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n")


def randomize(model, seed):
    """Every parameter N(0, 0.25) (norms around 1), so logits are far from uniform."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.25 * torch.randn(p.shape, generator=g))


def make_checkpoints():
    from transformers import Qwen2Config, Qwen2ForCausalLM, Qwen2MoeConfig, Qwen2MoeForCausalLM, GenerationConfig
    common = dict(vocab_size=VOCAB, max_position_embeddings=512, rms_norm_eps=1e-6, bos_token_id=296,
                  eos_token_id=296, attention_dropout=0.0, use_sliding_window=False, sliding_window=None)
    specs = {
        "q2-tied": (Qwen2Config, Qwen2ForCausalLM, torch.bfloat16, dict(hidden_size=32, intermediate_size=64,
                    num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2, tie_word_embeddings=True,
                    rope_theta=1000000.0)),
        "q2-untied": (Qwen2Config, Qwen2ForCausalLM, torch.float32, dict(hidden_size=48, intermediate_size=96,
                      num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=1, tie_word_embeddings=False,
                      rope_theta=10000.0)),
        "q2-yarn": (Qwen2Config, Qwen2ForCausalLM, torch.float16, dict(hidden_size=32, intermediate_size=64,
                    num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1, tie_word_embeddings=False,
                    rope_theta=1000000.0, rope_scaling={"rope_type": "yarn", "factor": 4.0,
                                                        "original_max_position_embeddings": 128})),
        "q2moe": (Qwen2MoeConfig, Qwen2MoeForCausalLM, torch.bfloat16, dict(hidden_size=32, intermediate_size=64,
                  num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1, tie_word_embeddings=False,
                  rope_theta=1000000.0, num_experts=4, num_experts_per_tok=2, moe_intermediate_size=48,
                  shared_expert_intermediate_size=64, norm_topk_prob=False, decoder_sparse_step=1,
                  mlp_only_layers=[], output_router_logits=False)),
    }
    for i, (name, (config_class, model_class, dtype, extra)) in enumerate(specs.items()):
        directory = CHECKPOINTS / name
        if directory.exists():
            shutil.rmtree(directory)
        directory.mkdir(parents=True)
        config = config_class(**common, **extra)
        torch.manual_seed(1000 + i)
        model = model_class(config)
        randomize(model, 2000 + i)
        model = model.to(dtype)
        shard = "60KB" if name == "q2moe" else "100MB"
        model.save_pretrained(directory, safe_serialization=True, max_shard_size=shard)
        GenerationConfig(bos_token_id=296, eos_token_id=[298, 296], pad_token_id=296, do_sample=True,
                         temperature=0.7, top_p=0.8, top_k=20, repetition_penalty=1.05).save_pretrained(directory)
        write_tokenizer(directory, eos="<|im_end|>" if name != "q2-tied" else "<|endoftext|>")
        if name == "q2-tied":
            # The 2024 layout: top-level rope_theta, torch_dtype (transformers 5 writes rope_parameters and dtype).
            cfg = json.loads((directory / "config.json").read_text())
            rope = cfg.pop("rope_parameters", None) or {}
            cfg["rope_theta"] = rope.get("rope_theta", 1000000.0)
            cfg["torch_dtype"] = cfg.pop("dtype", "bfloat16")
            (directory / "config.json").write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")


def convert(llama_cpp, name, outtype, out, vocab_only=False):
    runner = f"""
import sys, runpy
sys.argv = ["convert_hf_to_gguf.py", {str(CHECKPOINTS / name)!r}, "--outfile", {str(out)!r}, "--outtype", {outtype!r}]
{'sys.argv.append("--vocab-only")' if vocab_only else ''}
sys.path.insert(0, {llama_cpp!r})
sys.path.insert(1, {llama_cpp + '/gguf-py'!r})
import conversion.base as base
base.TextModel.get_vocab_base_pre = lambda self, tokenizer: "qwen2"
runpy.run_path({llama_cpp + '/convert_hf_to_gguf.py'!r}, run_name="__main__")
"""
    subprocess.run([sys.executable, "-c", runner], check=True, cwd=llama_cpp)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--llama-cpp", required=True, help="llama.cpp source tree (convert_hf_to_gguf.py, gguf-py)")
    ap.add_argument("--skip-checkpoints", action="store_true", help="reuse the committed checkpoints")
    a = ap.parse_args()
    if not a.skip_checkpoints:
        make_checkpoints()
    GOLDEN.mkdir(exist_ok=True)
    for name in ["q2-tied", "q2-untied", "q2-yarn", "q2moe"]:
        for outtype in ["f32", "f16", "bf16", "q8_0"]:
            convert(a.llama_cpp, name, outtype, GOLDEN / f"{name}.{outtype}.gguf")
        convert(a.llama_cpp, name, "f16", GOLDEN / f"{name}.vocab.gguf", vocab_only=True)


if __name__ == "__main__":
    main()
