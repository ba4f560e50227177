#!/usr/bin/env python3
"""Makes the `qwenkit verify` fixtures: the q2-k256 checkpoint and golden logits for every tiny checkpoint.

    python3 Fixtures/scripts/make_logit_fixtures.py [--llama-cpp /path/to/llama.cpp] [--skip-checkpoint]

Writes:
- Fixtures/checkpoints/q2-k256/: a tiny Qwen2 whose every matrix row is a multiple of 256 long, so that K-quants
  (256-element blocks) apply everywhere without fallback: hidden 256, FFN 256, 2 layers, 4 heads (head_dim 64),
  2 KV heads, vocab 320, tied embeddings, rope_theta 1e6, BF16, random weights (seeded: matrices N(0, 0.08²),
  biases N(0, 0.1²), norms 1 + N(0, 0.1²)), so that the logits spread with a standard deviation near 1 and each
  position has a clear top-1. Tokenizer files and generation_config.json are copied from q2-untied (the shared tiny
  320-token vocabulary of make_convert_fixtures.py, eos <|im_end|>).
- Fixtures/logit-golden/<checkpoint>.<prompt>.safetensors: make_logit_goldens.py's full form for the prompts below
  (short: 5 tokens; chat: 21 tokens with <|im_start|>/<|im_end|>; long: 60 tokens with multi-byte characters;
  q2-yarn also yarn: 160 tokens, past its original context of 128), and `<checkpoint>.chat.top8.safetensors`
  (compact form, K = 8) for the chat prompt of every checkpoint, plus `q2-yarn.yarn.top8.safetensors`.
  Compact and full files of one prompt come from the same forward pass.
- with --llama-cpp: Fixtures/convert-golden/q2-k256.{f32,bf16}.gguf, llama.cpp's convert_hf_to_gguf.py output
  (the same runner as make_convert_fixtures.py).
"""
import argparse
import json
import pathlib
import shutil
import sys

import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import make_logit_goldens as goldens  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHECKPOINTS = ROOT / "checkpoints"
OUT = ROOT / "logit-golden"
K256 = CHECKPOINTS / "q2-k256"

PROMPTS = {
    "short": "the cat sat on!",
    "chat": "<|im_start|>user\nthe quick brown fox jumps over the lazy dog<|im_end|>\n",
    "long": "The quick brown fox jumps over the lazy dog; then the cat sat on the mat. Ünïcödé: 猫, ✓ & 42! Then: 7",
    "yarn": " ".join(["the quick brown fox jumps over the lazy dog and the cat sat on the mat then the end.",
                      "Once more: 12 dogs, 3 cats, one fox.", "the end"] * 3) + "!",
}
LENGTHS = {"short": 5, "chat": 21, "long": 60, "yarn": 160}


def make_k256():
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM  # noqa: F401
    if K256.exists():
        shutil.rmtree(K256)
    K256.mkdir(parents=True)
    config = Qwen2Config(vocab_size=320, hidden_size=256, intermediate_size=256, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True,
                         rope_theta=1000000.0, max_position_embeddings=512, rms_norm_eps=1e-6, bos_token_id=296,
                         eos_token_id=296, attention_dropout=0.0, use_sliding_window=False, sliding_window=None,
                         initializer_range=0.08)
    torch.manual_seed(1100)
    model = Qwen2ForCausalLM(config)
    g = torch.Generator().manual_seed(2100)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=g))
            elif name.endswith(".bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.08 * torch.randn(p.shape, generator=g))
    model.to(torch.bfloat16).save_pretrained(K256, safe_serialization=True)
    for f in ["tokenizer.json", "tokenizer_config.json", "generation_config.json"]:
        shutil.copyfile(CHECKPOINTS / "q2-untied" / f, K256 / f)


def check_spread(name, logits):
    """Refuses logits too flat to test anything: std near 1 and a clear top-1 at every position."""
    top2 = np.sort(logits, axis=1)[:, -2:]
    margin = float((top2[:, 1] - top2[:, 0]).min())
    std = float(logits.std())
    distinct = len(set(logits.argmax(axis=1).tolist()))
    print(f"  {name}: logit std {std:.3f}, smallest top-1 margin {margin:.4f}, {distinct} distinct top-1 ids")
    return std, margin


def make_goldens():
    OUT.mkdir(exist_ok=True)
    for name in ["q2-tied", "q2-untied", "q2-yarn", "q2moe", "q2-k256"]:
        directory = CHECKPOINTS / name
        model, tokenizer, tf_version = goldens.load(str(directory))
        versions = (tf_version, torch.__version__.split("+")[0])
        prompts = ["short", "chat", "long"] + (["yarn"] if name == "q2-yarn" else [])
        for prompt in prompts:
            text = PROMPTS[prompt]
            tokens = tokenizer(text, add_special_tokens=False)["input_ids"]
            assert len(tokens) == LENGTHS[prompt], (prompt, len(tokens))
            logits = goldens.write_golden(OUT / f"{name}.{prompt}.safetensors", str(directory), model, tokens,
                                          None, versions, text)
            std, margin = check_spread(f"{name}.{prompt}", logits)
            if name == "q2-k256":
                assert 0.5 < std < 3 and margin > 1e-3, "q2-k256 logits are too flat"
            if prompt in ("chat", "yarn"):
                vocab = logits.shape[1]
                goldens.save_file(goldens.golden_tensors(tokens, logits, 8), str(OUT / f"{name}.{prompt}.top8.safetensors"),
                          metadata=goldens.metadata(str(directory), vocab, len(tokens), 8, versions, text))


def convert_k256(llama_cpp):
    from make_convert_fixtures import convert  # needs zstandard
    for outtype in ["f32", "bf16"]:
        convert(llama_cpp, "q2-k256", outtype, ROOT / "convert-golden" / f"q2-k256.{outtype}.gguf")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--llama-cpp", help="llama.cpp source tree, to also write q2-k256's reference conversions")
    ap.add_argument("--skip-checkpoint", action="store_true", help="reuse the committed q2-k256")
    a = ap.parse_args()
    if not a.skip_checkpoint:
        make_k256()
    make_goldens()
    if a.llama_cpp:
        convert_k256(a.llama_cpp)
    print(json.dumps({"goldens": sorted(p.name for p in OUT.glob("*.safetensors"))}))


if __name__ == "__main__":
    main()
