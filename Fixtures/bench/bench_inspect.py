#!/usr/bin/env python3
"""Benchmark `qwenkit inspect` against the Python tools people use for the same job, side by side in one run.

    python3 Fixtures/bench/bench_inspect.py [--qwenkit PATH] [--model DIR] [--repeat N]

The model is the Qwen2-0.5B-shaped one from make_bench_model.py (default /tmp/qwenkit-bench/qwen2-0.5b: a 988 MB
F16 GGUF and a 988 MB BF16 safetensors file). Every measurement is a fresh process, wall time, median of --repeat
runs, after one warm-up run so the files are in the page cache for everyone.

Summary (headers only):
  qwenkit inspect FILE                 vs  gguf-dump --no-tensors FILE (gguf-py), and, for safetensors, a Python
                                           script opening the file with safetensors.safe_open and listing every
                                           tensor's dtype and shape.
  qwenkit inspect --tensors FILE       vs  gguf-dump FILE (prints every tensor).
Statistics (all data: min, max, mean, std, NaN and Inf count per tensor):
  qwenkit inspect --stats FILE         vs  numpy over gguf-py's memory-mapped GGUFReader tensors / safetensors'
                                           numpy loader, float32 values, float64 sums (one thread; numpy has no
                                           parallel reductions), with --threads 1 and all cores for qwenkit.
Peak RSS is reported for each (from the child's rusage).
"""
import argparse
import os
import statistics
import sys

from benchrun import run

NUMPY_GGUF = r"""
import sys, numpy as np
from gguf import GGUFReader
r = GGUFReader(sys.argv[1])
for t in r.tensors:
    x = np.asarray(t.data).astype(np.float32).ravel()
    finite = np.isfinite(x)
    f = x[finite].astype(np.float64)
    print(t.name, f.min(), f.max(), f.mean(), f.std(), int(np.isnan(x).sum()), int(np.isinf(x).sum()))
"""

NUMPY_SAFETENSORS = r"""
import sys, json, numpy as np
path = sys.argv[1]
with open(path, 'rb') as fh:
    n = int.from_bytes(fh.read(8), 'little'); header = json.loads(fh.read(n))
data = np.memmap(path, dtype=np.uint8, mode='r', offset=8 + n)
for name, info in header.items():
    if name == '__metadata__': continue
    b, e = info['data_offsets']
    raw = data[b:e]
    if info['dtype'] == 'BF16':
        x = (raw.view(np.uint16).astype(np.uint32) << 16).view(np.float32)
    else:
        x = raw.view({'F32': np.float32, 'F16': np.float16}[info['dtype']]).astype(np.float32)
    finite = np.isfinite(x)
    f = x[finite].astype(np.float64)
    print(name, f.min(), f.max(), f.mean(), f.std(), int(np.isnan(x).sum()), int(np.isinf(x).sum()))
"""

SAFE_OPEN = r"""
import sys
from safetensors import safe_open
with safe_open(sys.argv[1], framework='numpy') as f:
    meta = f.metadata()
    for k in f.keys():
        s = f.get_slice(k)
        print(k, s.get_dtype(), s.get_shape())
"""


def measure(cmd, repeat):
    run(cmd)  # warm-up: page cache, dynamic linking
    results = [run(cmd) for _ in range(repeat)]
    return statistics.median(r[0] for r in results), max(r[1] for r in results)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qwenkit", default=os.environ.get("QWENKIT", ".build/release/qwenkit"))
    ap.add_argument("--model", default="/tmp/qwenkit-bench/qwen2-0.5b")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    gguf_file = os.path.join(a.model, "model-f16.gguf")
    st_file = os.path.join(a.model, "hf", "model.safetensors")
    q, py = a.qwenkit, sys.executable
    cores = str(os.cpu_count())
    rows = [
        ("summary", "GGUF", [q, "inspect", gguf_file], [("gguf-dump", ["gguf-dump", "--no-tensors", gguf_file])]),
        ("summary", "safetensors", [q, "inspect", st_file], [("safe_open", [py, "-c", SAFE_OPEN, st_file])]),
        ("tensor list", "GGUF", [q, "inspect", "--tensors", gguf_file], [("gguf-dump", ["gguf-dump", gguf_file])]),
        ("stats 1 thread", "GGUF", [q, "inspect", "--stats", "--threads", "1", gguf_file], [("numpy", [py, "-c", NUMPY_GGUF, gguf_file])]),
        ("stats 1 thread", "safetensors", [q, "inspect", "--stats", "--threads", "1", st_file], [("numpy", [py, "-c", NUMPY_SAFETENSORS, st_file])]),
        (f"stats {cores} threads", "GGUF", [q, "inspect", "--stats", "--threads", cores, gguf_file], [("numpy", [py, "-c", NUMPY_GGUF, gguf_file])]),
    ]
    size = os.path.getsize(gguf_file)
    print(f"model: {a.model} ({size / 1e6:.0f} MB per file), median of {a.repeat} warm runs")
    print(f"{'task':<16}{'format':<13}{'qwenkit':>10}{'RSS MB':>8}{'peer':>10}{'RSS MB':>8}{'ratio':>8}  peer")
    for task, fmt, ours, peers in rows:
        t, m = measure(ours, a.repeat)
        for name, peer in peers:
            pt, pm = measure(peer, a.repeat)
            print(f"{task:<16}{fmt:<13}{t * 1000:>8.0f}ms{m:>8.0f}{pt * 1000:>8.0f}ms{pm:>8.0f}{pt / t:>7.1f}x  {name}")
        if task.startswith("stats"):
            print(f"{'':<29}qwenkit {size / t / 1e9:.2f} GB/s")


if __name__ == "__main__":
    main()
