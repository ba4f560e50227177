#!/usr/bin/env python3
"""Trains the small Qwen2 checkpoint that makes perplexity, KL divergence and quantization error mean something in
tests and README (random-weight fixtures give a perplexity above their vocabulary size).

    python3 Fixtures/scripts/train_small_model.py [--steps 600] [--threads 2]

The model: Qwen2 with the real tokenizer (Fixtures/tokenizers/qwen2, 151,936 ids), hidden 256, 2 layers, 4 heads
of 64 with 2 KV heads, MLP 512, tied embeddings, bfloat16 weights (as Qwen ships them). Only the 8,192 ids most
frequent in the training text get embedding rows; every other row is zero, so those ids embed to zero and their
logit is exactly 0. Training computes the full-vocabulary cross-entropy without the full output matrix: the
151,936 - 8,192 zero logits add a constant (log of their count) to the log-partition, one extra column.

Text (committed, so that the checkpoint does not depend on this machine's Python):
    Fixtures/trained/train.txt.zst   ~1.6 MB of Python 3.11's standard library (code and docstrings), built from
                                     the modules in TRAIN_MODULES when absent
    Fixtures/trained/eval.txt        two held-out modules (textwrap.py, shlex.py): the perplexity text of tests
Output: Fixtures/trained/qwen2-s256/ — config.json, generation_config.json, tokenizer_config.json and
model.safetensors.zst (the 78 MB safetensors file compresses to its non-zero rows; tests decompress it next to
Fixtures/tokenizers/qwen2/tokenizer.json). Seeded, AdamW, a cosine schedule, 600 steps of 16 sequences of 256 tokens
(about 10 minutes on two cores); float summation order makes the exact weights depend on the machine and torch
build, so the goldens made from them are committed with them.
"""
import argparse
import json
import math
import os
import pathlib
import shutil
import sys
import sysconfig
import tempfile
import time

import numpy as np
import torch
import zstandard

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "trained"
MODEL = OUT / "qwen2-s256"
TOKENIZER = ROOT / "tokenizers" / "qwen2"
TRAIN_MODULES = ["argparse.py", "difflib.py", "fractions.py", "statistics.py", "heapq.py", "string.py", "calendar.py",
                 "pprint.py", "tokenize.py", "configparser.py", "dataclasses.py", "enum.py", "functools.py",
                 "inspect.py", "pathlib.py", "random.py", "subprocess.py", "tarfile.py", "zipfile.py",
                 "logging/__init__.py", "email/message.py", "http/client.py", "urllib/parse.py", "unittest/case.py",
                 "collections/__init__.py", "typing.py", "ast.py", "optparse.py", "gettext.py", "csv.py"]
EVAL_MODULES = ["textwrap.py", "shlex.py"]
VOCAB, KEPT, HIDDEN, LAYERS, HEADS, KV_HEADS, MLP, SEQ = 151936, 8192, 256, 2, 4, 2, 512, 256


def unzstd(path):
    with open(path, "rb") as f:
        return zstandard.ZstdDecompressor().stream_reader(f).read()


def text_of(modules):
    stdlib = pathlib.Path(sysconfig.get_paths()["stdlib"])
    return "".join((stdlib / m).read_text(encoding="utf-8") for m in modules)


def corpus():
    OUT.mkdir(exist_ok=True)
    train_path, eval_path = OUT / "train.txt.zst", OUT / "eval.txt"
    if not train_path.exists():
        train_path.write_bytes(zstandard.ZstdCompressor(level=19).compress(text_of(TRAIN_MODULES).encode()))
    if not eval_path.exists():
        eval_path.write_text(text_of(EVAL_MODULES), encoding="utf-8")
    return unzstd(train_path).decode(), eval_path.read_text(encoding="utf-8")


def tokenizer():
    from tokenizers import Tokenizer
    return Tokenizer.from_str(unzstd(TOKENIZER / "tokenizer.json.zst").decode())


def config():
    from transformers import Qwen2Config
    return Qwen2Config(vocab_size=VOCAB, hidden_size=HIDDEN, intermediate_size=MLP, num_hidden_layers=LAYERS,
                       num_attention_heads=HEADS, num_key_value_heads=KV_HEADS, max_position_embeddings=4096,
                       rope_theta=1000000.0, rms_norm_eps=1e-6, tie_word_embeddings=True, bos_token_id=151643,
                       eos_token_id=151643, use_sliding_window=False, torch_dtype="bfloat16")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.manual_seed(20261206)
    torch.set_num_threads(args.threads)
    from transformers import Qwen2ForCausalLM

    train_text, eval_text = corpus()
    tok = tokenizer()
    train_ids = np.array(tok.encode(train_text, add_special_tokens=False).ids, dtype=np.int64)
    eval_ids = np.array(tok.encode(eval_text, add_special_tokens=False).ids, dtype=np.int64)
    counts = np.bincount(train_ids, minlength=VOCAB)
    kept = np.sort(np.argsort(-counts, kind="stable")[:KEPT])          # the ids with rows, ascending
    compact = np.full(VOCAB, KEPT, dtype=np.int64)                       # id -> row; KEPT = the zero row
    compact[kept] = np.arange(KEPT)
    print(f"train {len(train_ids)} tokens, eval {len(eval_ids)}; the {KEPT} kept ids cover "
          f"{counts[kept].sum() / len(train_ids):.1%} of training tokens", file=sys.stderr)

    model = Qwen2ForCausalLM(config()).float()
    body = model.model
    body.embed_tokens = None                                             # the compact table below replaces it
    rows = torch.nn.Parameter(torch.randn(KEPT, HIDDEN) * 0.02)
    zero = torch.zeros(1, HIDDEN)
    rest = math.log(VOCAB - KEPT)                                        # log Σ exp(0) over the zero rows

    def loss_of(batch):
        x, y = compact[batch[:, :-1]], compact[batch[:, 1:]]
        table = torch.cat([rows, zero])
        hidden = body(inputs_embeds=table[torch.from_numpy(x)]).last_hidden_state
        logits = hidden @ rows.T
        logits = torch.cat([logits, torch.full(logits.shape[:-1] + (1,), rest)], dim=-1)   # the zero rows' mass
        target = torch.from_numpy(y)                                     # an id without a row scores the zero mass
        return torch.nn.functional.cross_entropy(logits.reshape(-1, KEPT + 1), target.reshape(-1))
    # (a target without a row is scored as the whole zero mass, too high by log(VOCAB - KEPT) for that one id; such
    # targets are 1.9% of the training tokens, so the training signal is barely changed; the evaluation is exact.)

    params = [rows] + [p for n, p in body.named_parameters()]
    optimizer = torch.optim.AdamW(params, lr=3e-3, betas=(0.9, 0.95), weight_decay=0.05)
    rng = np.random.default_rng(1)
    start, batch_size = time.time(), 16
    for step in range(args.steps):
        elapsed = time.time() - start
        progress = step / args.steps
        lr = 3e-3 * (min(1.0, step / 30)) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))
        for group in optimizer.param_groups:
            group["lr"] = lr
        offsets = rng.integers(0, len(train_ids) - SEQ - 1, size=batch_size)
        batch = np.stack([train_ids[o:o + SEQ + 1] for o in offsets])
        loss = loss_of(batch)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        if step % 50 == 0:
            print(f"step {step} ({elapsed:.0f} s) lr {lr:.2e} loss {loss.item():.3f}", file=sys.stderr)
    step = args.steps

    # The checkpoint: the compact rows scattered into the full table, every weight rounded to bfloat16.
    with torch.no_grad():
        full = torch.zeros(VOCAB, HIDDEN)
        full[torch.from_numpy(kept)] = rows
        final = Qwen2ForCausalLM(config())
        state = {"model.embed_tokens.weight": full}
        state.update({f"model.{n}": p for n, p in body.state_dict().items()})
        missing, unexpected = final.load_state_dict(state, strict=False)
        assert not unexpected and all(m == "lm_head.weight" for m in missing), (missing, unexpected)
        final.tie_weights()
        final = final.to(torch.bfloat16)
        # Exact full-vocabulary perplexity of the bf16 model on the held-out text, 512-token windows.
        final32 = final.float().eval()
        nll, n = 0.0, 0
        for o in range(0, len(eval_ids) - 512, 512):
            ids = torch.from_numpy(eval_ids[o:o + 512]).unsqueeze(0)
            logits = final32(ids).logits[0, 255:-1]
            nll += torch.nn.functional.cross_entropy(logits, ids[0, 256:], reduction="sum").item()
            n += 256
        print(f"{step} steps; held-out perplexity (bf16 weights, second halves of 512-token windows): "
              f"{math.exp(nll / n):.2f}", file=sys.stderr)
        final = final.to(torch.bfloat16)

    with tempfile.TemporaryDirectory() as tmp:
        final.save_pretrained(tmp)
        MODEL.mkdir(parents=True, exist_ok=True)
        for name in ["config.json", "generation_config.json"]:
            shutil.copy(pathlib.Path(tmp) / name, MODEL / name)
        shutil.copy(TOKENIZER / "tokenizer_config.json", MODEL / "tokenizer_config.json")
        data = (pathlib.Path(tmp) / "model.safetensors").read_bytes()
        (MODEL / "model.safetensors.zst").write_bytes(zstandard.ZstdCompressor(level=19).compress(data))
    print(f"wrote {MODEL}", file=sys.stderr)


if __name__ == "__main__":
    main()
