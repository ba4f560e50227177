#!/usr/bin/env python3
"""Makes the sliding-window and long-context fixtures of the runtime: two tiny checkpoints and transformers' logits.

    python3 Fixtures/scripts/make_long_context_fixtures.py [--skip-checkpoints]

Writes:
- Fixtures/checkpoints/q2-swa/: a tiny Qwen2 with sliding-window attention on: use_sliding_window true, a window of
  8 positions, and `layer_types` [sliding, full, sliding] stated in config.json (its `max_window_layers` of 28 would
  make no layer windowed: the stated list must win, as in transformers 5). Hidden 64, 3 layers, 4 heads (head_dim
  16), 2 KV heads, the shared 320-token vocabulary, random weights (make_convert_fixtures.randomize), F16.
- Fixtures/checkpoints/q2-yarn-long/: YaRN x8 from an original context of 256 (max_position_embeddings 256, as
  Qwen2.5's YaRN configs keep it at the original), hidden 32, 2 layers, F16: it runs to 2,048 positions.
- Fixtures/logit-golden/q2-swa.{long,yarn}.safetensors: full goldens (60 and 160 tokens, the prompts of
  make_logit_fixtures.py, both many windows long).
- Fixtures/logit-golden/q2-yarn-long.long.top8.safetensors: a compact golden (K = 8) of 2,000 seeded random token
  ids, 1,744 positions past the original context.
Goldens from transformers' float32 eager forward pass (make_logit_goldens.py).
"""
import argparse
import json
import pathlib
import shutil
import sys

import numpy as np
import torch

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import make_logit_goldens as goldens  # noqa: E402
from make_convert_fixtures import randomize, write_tokenizer  # noqa: E402
from make_logit_fixtures import PROMPTS, LENGTHS, check_spread  # noqa: E402

ROOT = HERE.parent
CHECKPOINTS = ROOT / "checkpoints"
OUT = ROOT / "logit-golden"
LONG_TOKENS = 2000


def make_checkpoints():
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM
    common = dict(vocab_size=320, rms_norm_eps=1e-6, bos_token_id=296, eos_token_id=296, attention_dropout=0.0,
                  tie_word_embeddings=False)
    specs = {
        "q2-swa": (torch.float16, dict(hidden_size=64, intermediate_size=96, num_hidden_layers=3, num_attention_heads=4,
                                      num_key_value_heads=2, max_position_embeddings=512, rope_theta=10000.0,
                                      use_sliding_window=True, sliding_window=8, max_window_layers=28,
                                      layer_types=["sliding_attention", "full_attention", "sliding_attention"])),
        "q2-yarn-long": (torch.float16, dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                            num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=256,
                                            use_sliding_window=False, sliding_window=None,
                                            rope_scaling={"rope_type": "yarn", "factor": 8.0, "rope_theta": 1000000.0,
                                                          "original_max_position_embeddings": 256})),
    }
    for i, (name, (dtype, extra)) in enumerate(specs.items()):
        directory = CHECKPOINTS / name
        if directory.exists():
            shutil.rmtree(directory)
        directory.mkdir(parents=True)
        config = Qwen2Config(**common, **extra)
        torch.manual_seed(1200 + i)
        model = Qwen2ForCausalLM(config)
        randomize(model, 2200 + i)
        model.to(dtype).save_pretrained(directory, safe_serialization=True)
        GenerationConfig(bos_token_id=296, eos_token_id=[298, 296], pad_token_id=296).save_pretrained(directory)
        write_tokenizer(directory, eos="<|im_end|>")
        saved = json.loads((directory / "config.json").read_text())
        if name == "q2-swa":
            assert saved["sliding_window"] == 8 and saved["max_window_layers"] == 28, saved
            assert saved["layer_types"] == ["sliding_attention", "full_attention", "sliding_attention"], saved


def make_goldens():
    OUT.mkdir(exist_ok=True)
    model, tokenizer, tf_version = goldens.load(str(CHECKPOINTS / "q2-swa"))
    assert [l.self_attn.sliding_window for l in model.model.layers] == [8, None, 8]
    versions = (tf_version, torch.__version__.split("+")[0])
    for prompt in ["long", "yarn"]:
        text = PROMPTS[prompt]
        tokens = tokenizer(text, add_special_tokens=False)["input_ids"]
        assert len(tokens) == LENGTHS[prompt], (prompt, len(tokens))
        logits = goldens.write_golden(OUT / f"q2-swa.{prompt}.safetensors", str(CHECKPOINTS / "q2-swa"), model, tokens,
                                      None, versions, text)
        check_spread(f"q2-swa.{prompt}", logits)

    directory = str(CHECKPOINTS / "q2-yarn-long")
    model, _, _ = goldens.load(directory)
    rng = np.random.default_rng(2026)
    tokens = [int(t) for t in rng.integers(0, 296, LONG_TOKENS)]
    logits = goldens.write_golden(OUT / "q2-yarn-long.long.top8.safetensors", directory, model, tokens, 8, versions)
    check_spread("q2-yarn-long.long", logits)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-checkpoints", action="store_true", help="reuse the committed checkpoints")
    a = ap.parse_args()
    if not a.skip_checkpoints:
        make_checkpoints()
    make_goldens()


if __name__ == "__main__":
    main()
