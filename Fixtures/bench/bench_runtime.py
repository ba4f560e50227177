#!/usr/bin/env python3
"""Benchmark `qwenkit run` against llama.cpp's CPU forward pass, side by side in one run on the same GGUF files.

    python3 Fixtures/bench/bench_runtime.py [--qwenkit PATH] [--models DIR] [--types f16,q8_0,q4_k_m]
                                            [--threads 1,2] [--prompt 128] [--gen 32] [--repeat 3] [--no-mmap]

What is measured (llama-bench's pp/tg): prompt processing of --prompt tokens in one batch, and generation of --gen
tokens one at a time after it, in tokens per second. The peer is llama.cpp as built by llama-cpp-python (`llama_decode`
through its ctypes binding, defaults as llama-bench's: F16 KV cache; n_batch = n_ubatch = the prompt length),
timed in-process after the model is loaded. Generation runs with llama.cpp's defaults (its "extra" buffer types:
weights repacked for the CPU's widest dot-product instructions, AMX where present), as llama-bench runs. The prompt
is timed with `use_extra_bufts` off: on this machine the AMX buffer type crashes (SIGSEGV) on a Q8_0 prompt batch,
and turning it off also turns off the repacked layouts, so the peer's prompt numbers here are below llama-bench's; qwenkit's numbers are the prompt and generation rates `qwenkit run` prints
(model load excluded as well). Both run the same token ids (a fixed pseudo-random sequence of ordinary tokens) on
the same files, which are made from make_bench_model.py's checkpoint with `qwenkit convert` and `qwenkit quantize`
(default directory /tmp/qwenkit-bench/runtime). Each cell is the median of --repeat runs after a warm-up run.
With --llama-bench PATH the peer is that binary instead (the same library; `cmake --build build --target llama-bench`
in the vendored llama.cpp): its pp test with --repack 0 and its tg test with the defaults, on its own token ids.

Generation is memory-bound, so its rate is also given as GB/s of weights read (bytes per token x tokens/s) and as a
share of a read probe's GB/s: "of probe" against the probe measured once at the start, "beside" the median over the
repeats of each run's GB/s against a short probe run just before it. On a machine shared with other tenants the read
speed moves by a fifth between minutes; the probe beside each run moves with it.

With --no-mmap both read the weights into memory instead of mapping them: `qwenkit run --no-mmap` (on 2 MB pages where
the system allows), llama.cpp with use_mmap off (llama-bench: --load-mode none).
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

PEER = r"""
import sys, time, llama_cpp
path, threads, n_prompt, n_gen = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
ids = [int(x) for x in sys.argv[5].split(",")]
use_mmap = sys.argv[6] == "mmap"
quiet = llama_cpp.llama_log_callback(lambda *a: None)  # kept referenced: ctypes frees a dropped callback
llama_cpp.llama_log_set(quiet, None)

def context(extra):
    mp = llama_cpp.llama_model_default_params()
    mp.use_extra_bufts = extra
    mp.use_mmap = use_mmap
    model = llama_cpp.llama_model_load_from_file(path.encode(), mp)
    cp = llama_cpp.llama_context_default_params()
    cp.n_ctx = n_prompt + n_gen + 8
    cp.n_batch = cp.n_ubatch = n_prompt
    cp.n_threads = cp.n_threads_batch = threads
    return model, llama_cpp.llama_init_from_model(model, cp)

def decode(ctx, tokens):
    arr = (llama_cpp.llama_token * len(tokens))(*tokens)
    if llama_cpp.llama_decode(ctx, llama_cpp.llama_batch_get_one(arr, len(tokens))) != 0:
        sys.exit("llama_decode failed")

# Prompt: one batch, without the extra buffer types (their AMX path crashes on a Q8_0 batch here).
model, ctx = context(False)
t0 = time.perf_counter()
decode(ctx, ids[:n_prompt])
pp = n_prompt / (time.perf_counter() - t0)
llama_cpp.llama_free(ctx)
llama_cpp.llama_model_free(model)
# Generation: with llama.cpp's defaults (repacked CPU layouts and AMX, as llama-bench runs); the prompt is fed
# one token at a time, untimed, so no batch takes the AMX path.
model, ctx = context(True)
for t in ids[:n_prompt]:
    decode(ctx, [t])
t0 = time.perf_counter()
for i in range(n_gen):
    decode(ctx, [ids[n_prompt + i]])
tg = n_gen / (time.perf_counter() - t0)
print(pp, tg)
"""


def token_ids(n, seed=1234):
    out, z = [], seed
    for _ in range(n):
        z = (z * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        out.append(1000 + (z >> 33) % 100000)
    return out


def ours(qwenkit, model, threads, ids, n_prompt, n_gen, no_mmap=False):
    # -n n_gen greedy from the prompt: n_gen tokens are emitted, n_gen - 1 steps run (the last is only sampled).
    # Generation steps are timed by qwenkit itself.
    cmd = [qwenkit, "run", model, "--tokens", ",".join(map(str, ids[:n_prompt])), "-n", str(n_gen + 1),
           "--threads", str(threads)] + (["--no-mmap"] if no_mmap else [])
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True)
    m = re.search(r"prompt: \d+ tokens in [\d.]+ ms \(([\d.]+) tokens/s\); generation: \d+ tokens, (\d+) steps in [\d.]+ ms \(([\d.]+) tokens/s\)", p.stderr)
    if not m:
        sys.exit("cannot parse qwenkit's timing line: " + p.stderr)
    return float(m.group(1)), float(m.group(3))


def theirs_bench(llama_bench, model, threads, n_prompt, n_gen, no_mmap=False):
    """llama-bench's own pp and tg (random token ids of its choosing): the prompt with --repack 0 (as the binding path
    turns the extra buffer types off), generation with its defaults."""
    def one(args):
        load = ["--load-mode", "none"] if no_mmap else []
        p = subprocess.run([llama_bench, "-m", model, "-t", str(threads), "-r", "1", "-o", "json", "--no-warmup"] + load + args,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, check=True)
        return json.loads(p.stdout)[0]["avg_ts"]
    pp = one(["-p", str(n_prompt), "-n", "0", "-b", str(n_prompt), "-ub", str(n_prompt), "--repack", "0"])
    tg = one(["-p", "0", "-n", str(n_gen)])
    return pp, tg


def theirs(model, threads, ids, n_prompt, n_gen, llama_bench=None, no_mmap=False):
    if llama_bench:
        return theirs_bench(llama_bench, model, threads, n_prompt, n_gen, no_mmap)
    p = subprocess.run([sys.executable, "-c", PEER, model, str(threads), str(n_prompt), str(n_gen), ",".join(map(str, ids)),
                        "read" if no_mmap else "mmap"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, check=True)
    pp, tg = p.stdout.split()
    return float(pp), float(tg)


def bytes_per_token(path):
    """Bytes generation reads per token: every weight matrix once (the output matrix, or the token embedding when
    the model is tied and it is also the output), not the embedding rows of the input (one row per token)."""
    import gguf
    reader = gguf.GGUFReader(path)
    sizes = {t.name: int(t.n_bytes) for t in reader.tensors}
    total = sum(v for k, v in sizes.items() if k != "token_embd.weight")
    if "output.weight" not in sizes:
        total += sizes["token_embd.weight"]
    return total


_probe_arrays = {}


def read_bandwidth(threads, gib=1, repeat=5):
    """A STREAM-like read probe: `threads` threads each reduce their share of a `gib` GiB array (numpy releases the
    GIL in the loop); GB/s of the best of `repeat` passes. The array is made once and kept."""
    import concurrent.futures
    import numpy as np
    if gib not in _probe_arrays:
        _probe_arrays[gib] = np.ones((gib << 30) // 8, dtype=np.uint64)
    a = _probe_arrays[gib]
    parts = np.array_split(a, threads)
    best = 0.0
    with concurrent.futures.ThreadPoolExecutor(threads) as ex:
        list(ex.map(np.bitwise_xor.reduce, parts))
        for _ in range(repeat):
            t0 = time.perf_counter()
            list(ex.map(np.bitwise_xor.reduce, parts))
            best = max(best, a.nbytes / (time.perf_counter() - t0) / 1e9)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qwenkit", default=os.environ.get("QWENKIT", ".build/release/qwenkit"))
    ap.add_argument("--checkpoint", default="/tmp/qwenkit-bench/qwen2-0.5b/hf")
    ap.add_argument("--models", default="/tmp/qwenkit-bench/runtime")
    ap.add_argument("--types", default="f16,q8_0,q4_k_m")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--prompt", type=int, default=128)
    ap.add_argument("--gen", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--llama-bench", help="llama.cpp's llama-bench binary as the peer, instead of llama-cpp-python's binding")
    ap.add_argument("--no-mmap", action="store_true", help="both read the weights into memory instead of mapping them")
    a = ap.parse_args()
    os.makedirs(a.models, exist_ok=True)
    f16 = os.path.join(a.models, "f16.gguf")
    if not os.path.exists(f16):
        subprocess.run([a.qwenkit, "convert", a.checkpoint, "-o", f16, "--outtype", "f16"], check=True, stderr=subprocess.DEVNULL)
    ids = token_ids(a.prompt + a.gen + 1)
    bandwidth = {threads: read_bandwidth(threads) for threads in map(int, a.threads.split(","))}
    print("read bandwidth (probe): " + ", ".join(f"{t} thread{'s' if t > 1 else ''} {b:.1f} GB/s" for t, b in bandwidth.items()))
    print(f"Qwen2-0.5B-shaped model{', weights read into memory (--no-mmap)' if a.no_mmap else ''}, pp{a.prompt} / tg{a.gen} tokens/s, median of {a.repeat} after a warm-up;"
          " tg GB/s = bytes of weights read per token x qwenkit's tg, and its share of the probe (beside: of one"
          " run just before each qwenkit run, median)")
    print(f"{'type':<8}{'threads':>8}{'qwenkit pp':>12}{'llama.cpp pp':>14}{'ratio':>7}{'qwenkit tg':>12}{'llama.cpp tg':>14}{'ratio':>7}"
          f"{'tg GB/s':>9}{'of probe':>10}{'beside':>8}")
    for t in a.types.split(","):
        path = os.path.join(a.models, f"{t}.gguf")
        if not os.path.exists(path):
            subprocess.run([a.qwenkit, "quantize", "-q", f16, path, t.upper()], check=True)
        weight_bytes = bytes_per_token(path)
        for threads in map(int, a.threads.split(",")):
            res, beside = {}, []

            def ours_beside():
                probe = read_bandwidth(threads, repeat=3)
                run = ours(a.qwenkit, path, threads, ids, a.prompt, a.gen, a.no_mmap)
                beside.append(weight_bytes * run[1] / 1e9 / probe)
                return run

            for name, fn in [("q", ours_beside), ("r", lambda: theirs(path, threads, ids, a.prompt, a.gen, a.llama_bench, a.no_mmap))]:
                fn()
                if name == "q":
                    beside.clear()  # the warm-up's
                runs = [fn() for _ in range(a.repeat)]
                res[name] = (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))
            (qp, qg), (rp, rg) = res["q"], res["r"]
            gbps = weight_bytes * qg / 1e9
            print(f"{t:<8}{threads:>8}{qp:>12.1f}{rp:>14.1f}{qp / rp:>7.2f}{qg:>12.1f}{rg:>14.1f}{qg / rg:>7.2f}"
                  f"{gbps:>9.1f}{gbps / bandwidth[threads]:>10.0%}{statistics.median(beside):>8.0%}", flush=True)


if __name__ == "__main__":
    main()
