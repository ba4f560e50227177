#!/usr/bin/env python3
"""Benchmark `qwenkit imatrix` against llama-imatrix, side by side in one run on the same model and text.

    python3 Fixtures/bench/bench_imatrix.py --llama-imatrix PATH [--qwenkit PATH] [--model F16.gguf] [--text FILE]
        [--chunks 100] [--ctx 512] [--threads 2]

The model is make_bench_model.py's Qwen2-0.5B-shaped F16 GGUF (it has no tokenizer: the text is the real Qwen2
tokenizer's, so both tools get the model with the tokenizer of Fixtures/tokenizers/qwen2 added by `qwenkit convert`
of make_bench_model.py's hf/ directory: pass that file). The text defaults to make_corpus.py's mixed corpus. Both
write a GGUF importance matrix; llama-imatrix runs with its defaults (F16 KV cache, flash attention as it chooses)
and both without the perplexity pass (--no-ppl). Wall time and peak RSS of each process (wait4); tokens/s = chunks ×
ctx / time.
"""
import argparse
import os

from benchrun import run


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qwenkit", default=os.environ.get("QWENKIT", ".build/release/qwenkit"))
    ap.add_argument("--llama-imatrix", required=True)
    ap.add_argument("--model", default="/tmp/qwenkit-bench/qwen2-0.5b/model-f16-tok.gguf")
    ap.add_argument("--text", default="/tmp/qwenkit-bench/mixed.txt")
    ap.add_argument("--chunks", type=int, default=100)
    ap.add_argument("--ctx", type=int, default=512)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="/tmp/qwenkit-bench/imatrix-out")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    common = ["-f", a.text, "-c", str(a.ctx), "--chunks", str(a.chunks), "-t", str(a.threads)]
    q = [a.qwenkit, "imatrix", a.model, *common, "--no-ppl", "-o", os.path.join(a.out, "qwenkit.imatrix.gguf")]
    r = [a.llama_imatrix, "-m", a.model, *common, "--no-ppl", "-o", os.path.join(a.out, "llama.imatrix.gguf")]
    tokens = a.chunks * a.ctx
    print(f"model: {a.model}, {a.chunks} chunks of {a.ctx} tokens, {a.threads} threads")
    print(f"{'tool':<14}{'time':>9}{'tokens/s':>10}{'RSS MB':>8}")
    res = {}
    for name, cmd in [("qwenkit", q), ("llama-imatrix", r)]:
        t, m = run(cmd)
        res[name] = t
        print(f"{name:<14}{t:>8.1f}s{tokens / t:>10.0f}{m:>8.0f}", flush=True)
    print(f"speed ratio (llama-imatrix time / qwenkit time): {res['llama-imatrix'] / res['qwenkit']:.2f}")


if __name__ == "__main__":
    main()
