#!/usr/bin/env python3
"""Benchmark `qwenkit quantize` against llama.cpp's quantizer, side by side in one run.

    python3 Fixtures/bench/bench_quantize.py [--qwenkit PATH] [--input F16.gguf] [--types Q8_0,Q4_K_M|all]
        [--threads 2] [--imatrix FILE] [--llama-quantize PATH]

The peer is llama.cpp's `llama_model_quantize` (the function behind llama-quantize): with --llama-quantize, the
llama-quantize binary built from llama-cpp-python 0.3.36's vendored llama.cpp; otherwise llama-cpp-python's build
called through its ctypes binding in a fresh Python process (about 0.3 s of Python start-up). The input is
make_bench_model.py's Qwen2-0.5B-shaped F16 GGUF (default /tmp/qwenkit-bench/qwen2-0.5b/model-f16.gguf); with
--imatrix both get the same importance matrix. Wall time of each process, peak RSS from wait4, median of --repeat
(after a warm-up unless --no-warmup); the two outputs are compared byte for byte.
"""
import argparse
import filecmp
import os
import statistics
import sys

from benchrun import run

FTYPES = {"Q4_0": 2, "Q4_1": 3, "Q8_0": 7, "Q5_0": 8, "Q5_1": 9, "Q2_K": 10, "Q3_K_S": 11, "Q3_K_M": 12, "Q3_K_L": 13,
          "Q4_K_S": 14, "Q4_K_M": 15, "Q5_K_S": 16, "Q5_K_M": 17, "Q6_K": 18}
# every type llama-quantize lists (but COPY and the float types), in its order
ALL = ["Q1_0", "Q2_0", "Q4_0", "Q4_1", "MXFP4_MOE", "Q5_0", "Q5_1", "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ2_M", "IQ1_S",
       "IQ1_M", "TQ1_0", "TQ2_0", "Q2_K", "Q2_K_S", "IQ3_XXS", "IQ3_S", "IQ3_M", "IQ3_XS", "Q3_K_S", "Q3_K_M", "Q3_K_L",
       "IQ4_NL", "IQ4_XS", "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K", "Q8_0"]

PEER = """
import sys, llama_cpp
p = llama_cpp.llama_model_quantize_default_params()
p.ftype = int(sys.argv[3]); p.nthread = int(sys.argv[4])
sys.exit(llama_cpp.llama_model_quantize(sys.argv[1].encode(), sys.argv[2].encode(), p))
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qwenkit", default=os.environ.get("QWENKIT", ".build/release/qwenkit"))
    ap.add_argument("--input", default="/tmp/qwenkit-bench/qwen2-0.5b/model-f16.gguf")
    ap.add_argument("--types", default="Q8_0,Q4_K_M")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--out", default="/tmp/qwenkit-bench/quantize-out")
    ap.add_argument("--imatrix", help="an importance matrix given to both")
    ap.add_argument("--llama-quantize", help="the llama-quantize binary (default: llama-cpp-python's ctypes binding)")
    ap.add_argument("--no-warmup", action="store_true")
    a = ap.parse_args()
    if a.types == "all":
        a.types = ",".join(ALL)
    os.makedirs(a.out, exist_ok=True)
    print(f"input: {a.input} ({os.path.getsize(a.input) / 1e6:.0f} MB), {a.threads} threads, median of {a.repeat} "
          f"{'cold' if a.no_warmup else 'warm'} runs{', imatrix ' + a.imatrix if a.imatrix else ''}")
    print(f"{'type':<10}{'qwenkit':>10}{'RSS MB':>8}{'llama.cpp':>11}{'RSS MB':>8}{'speed-up':>10}  identical")
    for t in a.types.split(","):
        ours, theirs = os.path.join(a.out, f"qwenkit-{t}.gguf"), os.path.join(a.out, f"llama-{t}.gguf")
        im = ["--imatrix", a.imatrix] if a.imatrix else []
        q = [a.qwenkit, "quantize", "-q", *im, a.input, ours, t, str(a.threads)]
        if a.llama_quantize:
            r = [a.llama_quantize, *im, a.input, theirs, t, str(a.threads)]
        else:
            r = [sys.executable, "-c", PEER, a.input, theirs, str(FTYPES[t]), str(a.threads)]
        res = {}
        for name, cmd in [("q", q), ("r", r)]:
            if not a.no_warmup:
                run(cmd)
            times = [run(cmd) for _ in range(a.repeat)]
            res[name] = (statistics.median(x for x, _ in times), max(m for _, m in times))
        (qt, qm), (rt, rm) = res["q"], res["r"]
        print(f"{t:<10}{qt:>9.2f}s{qm:>8.0f}{rt:>10.2f}s{rm:>8.0f}{rt / qt:>9.1f}x  {filecmp.cmp(ours, theirs, shallow=False)}",
              flush=True)


if __name__ == "__main__":
    main()
