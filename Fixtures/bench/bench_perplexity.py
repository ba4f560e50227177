#!/usr/bin/env python3
"""Benchmark `qwenkit perplexity` against llama-perplexity, side by side in one run on the same model and text.

    python3 Fixtures/bench/bench_perplexity.py --llama-perplexity PATH [--qwenkit PATH] [--model GGUF]...
        [--text FILE] [--chunks 8] [--ctx 512] [--threads 2]

Models default to make_bench_model.py's Qwen2-0.5B-shaped model with the real tokenizer (`qwenkit convert hf
--outtype f16` of its hf/ directory, model-f16-tok.gguf) and its Q4_K_M quantization (made here with qwenkit if
missing: the same bytes as llama-quantize's); the text to make_corpus.py's mixed corpus. llama-perplexity runs with
its defaults. Wall time and peak RSS of each process (wait4); tokens/s = chunks × ctx / time. Then a KL-divergence
run of the Q4_K_M model against the F16 model's base file, base written by each tool for itself.
"""
import argparse
import os
import subprocess

from benchrun import run


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qwenkit", default=os.environ.get("QWENKIT", ".build/release/qwenkit"))
    ap.add_argument("--llama-perplexity", required=True)
    ap.add_argument("--model", action="append")
    ap.add_argument("--text", default="/tmp/qwenkit-bench/mixed.txt")
    ap.add_argument("--chunks", type=int, default=8)
    ap.add_argument("--ctx", type=int, default=512)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="/tmp/qwenkit-bench/perplexity-out")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    f16 = "/tmp/qwenkit-bench/qwen2-0.5b/model-f16-tok.gguf"
    q4 = "/tmp/qwenkit-bench/qwen2-0.5b/model-q4_k_m-tok.gguf"
    if not a.model:
        if not os.path.exists(q4):
            subprocess.run([a.qwenkit, "quantize", "-q", f16, q4, "Q4_K_M", str(a.threads)], check=True)
        a.model = [f16, q4]
    tokens = a.chunks * a.ctx
    common = ["-f", a.text, "-c", str(a.ctx), "--chunks", str(a.chunks), "-t", str(a.threads)]
    print(f"{a.chunks} chunks of {a.ctx} tokens, {a.threads} threads")
    print(f"{'model':<28}{'tool':<18}{'time':>9}{'tokens/s':>10}{'RSS MB':>8}")
    for m in a.model:
        res = {}
        for name, cmd in [("qwenkit", [a.qwenkit, "perplexity", m, *common]),
                          ("llama-perplexity", [a.llama_perplexity, "-m", m, *common])]:
            t, r = run(cmd)
            res[name] = t
            print(f"{os.path.basename(m):<28}{name:<18}{t:>8.1f}s{tokens / t:>10.0f}{r:>8.0f}", flush=True)
        print(f"  ratio (llama time / qwenkit time): {res['llama-perplexity'] / res['qwenkit']:.2f}")
    base_q, base_l = os.path.join(a.out, "qwenkit.kld"), os.path.join(a.out, "llama.kld")
    run([a.qwenkit, "perplexity", f16, *common, "--kl-divergence-base", base_q])
    run([a.llama_perplexity, "-m", f16, *common, "--kl-divergence-base", base_l])
    kq = run([a.qwenkit, "perplexity", q4, "--kl-divergence-base", base_q, "--kl-divergence", "-t", str(a.threads)])[0]
    kl = run([a.llama_perplexity, "-m", q4, "--kl-divergence-base", base_l, "--kl-divergence", "-t", str(a.threads)])[0]
    print(f"KLD of Q4_K_M against F16: qwenkit {kq:.1f}s ({tokens / kq:.0f} tokens/s), llama-perplexity {kl:.1f}s "
          f"({tokens / kl:.0f} tokens/s), ratio {kl / kq:.2f}")


if __name__ == "__main__":
    main()
