#!/usr/bin/env python3
"""Checks that qwenkit's GGUF conversions load in llama.cpp and compute what transformers computes (not run in CI).

    python3 Fixtures/scripts/check_llama_cpp_logits.py [--qwenkit .build/release/qwenkit] [--outtype f32]

For each tiny checkpoint in Fixtures/checkpoints: `qwenkit convert` it, load the GGUF with llama-cpp-python
(llama.cpp 0.3.36's build), evaluate a few token sequences with all logits, and compare them with transformers'
float32 logits for the same tokens. Prints max abs difference and top-1 agreement per model and prompt; exits 1
if llama.cpp cannot load a file or a difference exceeds --tolerance.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
PROMPTS = [[296, 100, 101, 102, 256, 257, 258], [297, 10, 20, 30, 40, 50, 60, 70, 80, 90, 200, 290, 298, 5]]


def hf_logits(directory, tokens):
    from transformers import AutoModelForCausalLM
    model = AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float32)
    model.eval()
    with torch.no_grad():
        return model(torch.tensor([tokens])).logits[0].numpy()


def llama_logits(path, tokens):
    from llama_cpp import Llama
    llm = Llama(model_path=path, n_ctx=64, logits_all=True, verbose=False, n_threads=2, type_k=0, type_v=0)
    llm.eval(tokens)
    return np.array(llm.scores[:len(tokens)], dtype=np.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qwenkit", default=os.path.join(ROOT, "..", ".build", "release", "qwenkit"))
    ap.add_argument("--outtype", default="f32")
    ap.add_argument("--tolerance", type=float, default=1e-3)
    a = ap.parse_args()
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for name in ["q2-tied", "q2-untied", "q2-yarn", "q2moe"]:
            directory = os.path.join(ROOT, "checkpoints", name)
            out = os.path.join(tmp, f"{name}.gguf")
            subprocess.run([a.qwenkit, "convert", "-q", directory, "--outtype", a.outtype, "-o", out], check=True)
            for tokens in PROMPTS:
                ref = hf_logits(directory, tokens)
                ours = llama_logits(out, tokens)
                diff = float(np.abs(ref - ours).max())
                top1 = float((ref.argmax(-1) == ours.argmax(-1)).mean())
                worst = max(worst, diff)
                print(f"{name:<10} {a.outtype:<5} {len(tokens):>3} tokens  max |diff| {diff:.2e}  top-1 agreement {top1:.0%}")
    print(f"worst {worst:.2e} (tolerance {a.tolerance})")
    sys.exit(0 if worst <= a.tolerance else 1)


if __name__ == "__main__":
    main()
