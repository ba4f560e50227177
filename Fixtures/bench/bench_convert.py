#!/usr/bin/env python3
"""Benchmark `qwenkit convert` against llama.cpp's convert_hf_to_gguf.py, side by side in one run.

    python3 Fixtures/bench/bench_convert.py --llama-cpp /path/to/llama.cpp [--qwenkit PATH] [--model DIR]
                                            [--outtypes f16,q8_0,bf16] [--repeat N]

The model is make_bench_model.py's Qwen2-0.5B-shaped checkpoint (default /tmp/qwenkit-bench/qwen2-0.5b/hf: BF16,
988 MB, the real Qwen2 tokenizer). Each measurement is a fresh process (wall time, peak RSS from wait4), after a
warm-up run, so the checkpoint is in the page cache for both; outputs go to the same directory and are compared
byte for byte (they must be identical). Median of --repeat runs.
"""
import argparse
import filecmp
import os
import statistics
import sys

from benchrun import run


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--llama-cpp", required=True)
    ap.add_argument("--qwenkit", default=os.environ.get("QWENKIT", ".build/release/qwenkit"))
    ap.add_argument("--model", default="/tmp/qwenkit-bench/qwen2-0.5b/hf")
    ap.add_argument("--outtypes", default="f16,q8_0,bf16")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default="/tmp/qwenkit-bench/convert-out")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    size = sum(os.path.getsize(os.path.join(a.model, f)) for f in os.listdir(a.model) if f.endswith(".safetensors"))
    print(f"checkpoint: {a.model} ({size / 1e6:.0f} MB of safetensors), median of {a.repeat} warm runs")
    print(f"{'outtype':<8}{'qwenkit':>10}{'RSS MB':>8}{'reference':>11}{'RSS MB':>8}{'speed-up':>10}{'memory':>8}  identical")
    for outtype in a.outtypes.split(","):
        ours = os.path.join(a.out, f"qwenkit-{outtype}.gguf")
        ref = os.path.join(a.out, f"reference-{outtype}.gguf")
        q = [a.qwenkit, "convert", "-q", a.model, "--outtype", outtype, "-o", ours]
        r = [sys.executable, os.path.join(a.llama_cpp, "convert_hf_to_gguf.py"), a.model, "--outtype", outtype, "--outfile", ref]
        results = {}
        for name, cmd in [("qwenkit", q), ("reference", r)]:
            run(cmd)
            times = [run(cmd) for _ in range(a.repeat)]
            results[name] = (statistics.median(t for t, _ in times), max(m for _, m in times))
        (qt, qm), (rt, rm) = results["qwenkit"], results["reference"]
        same = filecmp.cmp(ours, ref, shallow=False)
        print(f"{outtype:<8}{qt:>9.2f}s{qm:>8.0f}{rt:>10.2f}s{rm:>8.0f}{rt / qt:>9.1f}x{rm / qm:>7.1f}x  {same}")


if __name__ == "__main__":
    main()
