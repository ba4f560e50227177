#!/usr/bin/env python3
"""Training-data outputs side by side: what each output format costs over u32, what sharding costs, and merge
against cat (disk speed) with its peak memory.

    python3 Fixtures/bench/bench_training_data.py [--qwenkit .build/release/qwenkit] [--mb 60] [--repeat 5]

Corpus: Fixtures/bench's mixed text (make_corpus.py; /tmp/qwenkit-bench/mixed.txt) cut into JSONL records of about
2 KB, repeated to --mb MB. Every timing is the minimum of --repeat fresh processes, formats interleaved so that the
machine's drift hits all alike; ratios are within this run and of CPU time (user + system), which the machine's noise
moves less than wall time; peak RSS is the largest seen.
"""
import argparse, filecmp, json, os, pathlib, shutil, subprocess, sys, tempfile, time

ROOT = pathlib.Path(__file__).resolve().parents[2]


def run(cmd):
    """Wall seconds, CPU seconds (user + system) and peak RSS (MB) of one fresh process; exits on failure. The peak is
    GNU time's report of the command itself: a child of this process would count this process's pages in its own peak
    (its high-water mark is kept across exec)."""
    with tempfile.NamedTemporaryFile(mode="r", suffix=".rss") as report:
        t0 = time.perf_counter()
        p = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", report.name] + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        if status != 0:
            sys.exit(f"failed ({status}): {' '.join(cmd)}")
        rss = int(report.read().split()[-1]) / 1024
    return wall, usage.ru_utime + usage.ru_stime, rss


def corpus(path, mb):
    text = pathlib.Path("/tmp/qwenkit-bench/mixed.txt").read_text(encoding="utf-8")
    records, pos = [], 0
    while pos < len(text):
        records.append(json.dumps({"text": text[pos:pos + 2000], "meta": {"source": "bench"}}, ensure_ascii=False))
        pos += 2000
    with open(path, "w", encoding="utf-8") as out:
        written = 0
        while written < mb << 20:
            for r in records:
                out.write(r + "\n")
                written += len(r.encode()) + 1


def fake_shards(directory, count, tokens_each):
    """Megatron datasets of random int32 tokens (documents of 1-4,000 tokens), written directly."""
    import numpy, struct
    rng = numpy.random.default_rng(1)
    prefixes = []
    for k in range(count):
        lengths = []
        left = tokens_each
        while left > 0:
            n = min(left, int(rng.integers(1, 4000)))
            lengths.append(n)
            left -= n
        prefix = directory / f"shard-{k:04d}"
        rng.integers(0, 151643, size=tokens_each, dtype=numpy.int32).tofile(str(prefix) + ".bin")
        lengths = numpy.array(lengths, dtype=numpy.int32)
        pointers = numpy.concatenate([[0], numpy.cumsum(lengths[:-1].astype(numpy.int64) * 4)]).astype(numpy.int64)
        with open(str(prefix) + ".idx", "wb") as f:
            f.write(b"MMIDIDX\x00\x00" + struct.pack("<Q", 1) + struct.pack("<B", 4))
            f.write(struct.pack("<Q", len(lengths)) + struct.pack("<Q", len(lengths) + 1))
            f.write(lengths.tobytes() + pointers.tobytes() + numpy.arange(len(lengths) + 1, dtype=numpy.int64).tobytes())
        prefixes.append(str(prefix))
    return prefixes


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--qwenkit", default=str(ROOT / ".build/release/qwenkit"))
    parser.add_argument("--mb", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--merge-gb", type=float, default=0.8)
    args = parser.parse_args()
    q = os.path.abspath(args.qwenkit)
    work = pathlib.Path(tempfile.mkdtemp(prefix="qwenkit-train-bench-"))
    try:
        data = work / "data.jsonl"
        corpus(data, args.mb)
        size = data.stat().st_size
        base = [q, "encode", "--jsonl", "text", "--threads", "2", "--eod", "151643", str(data)]
        cases = {
            "u32": base + ["--format", "u32", "-o", str(work / "o.u32")],
            "megatron": base + ["--format", "megatron", "-o", str(work / "o")],
            "npy": base + ["--format", "npy", "-o", str(work / "o.npy")],
            "u32 --pack 2048": base + ["--format", "u32", "--pack", "2048", "-o", str(work / "p.u32")],
            "npy --pack 2048 --pack-mode bfd": base + ["--format", "npy", "--pack", "2048", "--pack-mode", "bfd", "-o", str(work / "b.npy")],
            "jsonl (fields carried)": base + ["--format", "jsonl", "-o", str(work / "o.jsonl")],
        }
        wall = {name: 1e9 for name in cases}
        cpu = {name: 1e9 for name in cases}
        rss = {name: 0.0 for name in cases}
        for _ in range(args.repeat):
            for name, cmd in cases.items():
                w, c, r = run(cmd)
                wall[name], cpu[name], rss[name] = min(wall[name], w), min(cpu[name], c), max(rss[name], r)
        print(f"encode, {size / 1e6:.0f} MB of JSONL, 2 threads, min of {args.repeat}:")
        for name in cases:
            print(f"  {name:34s} {wall[name]:6.2f} s wall {cpu[name]:6.2f} s CPU  {size / 1e6 / cpu[name]:5.1f} MB per CPU-s  "
                  f"{cpu[name] / cpu['u32']:5.2f}x u32's CPU  peak {rss[name]:4.0f} MB")

        # Sharding: 4 shards one after another (each with 2 threads) against one run, then the merge.
        shards = [base + ["--format", "megatron", "--shard", f"{k}/4", "-o", str(work / f"s{k}")] for k in range(4)]
        total = sum(run(cmd)[1] for cmd in shards)
        merge_wall, _, _ = run([q, "merge", "-o", str(work / "m")] + [str(work / f"s{k}") for k in range(4)])
        same = all(filecmp.cmp(work / f"m{s}", work / f"o{s}", shallow=False) for s in (".bin", ".idx"))
        print(f"  4 shards in turn: {total:.2f} CPU-s ({total / cpu['megatron']:.2f}x one run's), merge {merge_wall:.2f} s, "
              f"merged {'identical to' if same else 'DIFFERENT from'} one run")

        # merge at disk speed: against cat of the same .bin files into one file.
        mdir = work / "merge"
        mdir.mkdir()
        each = int(args.merge_gb * (1 << 30) / 4 / 8)
        # Made in a child process, so that this one stays small.
        subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(pathlib.Path(__file__).resolve().parent)!r}); "
                        f"import pathlib, bench_training_data as b; b.fake_shards(pathlib.Path({str(mdir)!r}), 8, {each})"], check=True)
        prefixes = [str(mdir / f"shard-{k:04d}") for k in range(8)]
        bins = [p + ".bin" for p in prefixes]
        total_bytes = sum(os.path.getsize(b) for b in bins)
        def fresh(*paths):
            # Outputs are removed before each run, untimed: replacing a 2 GB file frees its blocks in the writer's time.
            for p in paths:
                if os.path.exists(p):
                    os.remove(p)
            subprocess.run(["sync"])

        def cat():
            fresh(mdir / "cat.bin")
            return run(["sh", "-c", "cat " + " ".join(bins) + f" > {mdir}/cat.bin"])

        def merge():
            fresh(mdir / "merged.bin", mdir / "merged.idx")
            return run([q, "merge", "-o", str(mdir / "merged")] + prefixes)
        results = {"cat": [], "merge": []}
        for _ in range(5):
            results["cat"].append(cat())
            results["merge"].append(merge())
        c = min(r[0] for r in results["cat"])
        m = min(r[0] for r in results["merge"])
        peak = max(r[2] for r in results["merge"])
        print(f"merge of 8 Megatron shards, {total_bytes / 1e9:.2f} GB, files cached, min of 5: cat {total_bytes / 1e6 / c:.0f} MB/s, "
              f"qwenkit merge {total_bytes / 1e6 / m:.0f} MB/s ({m / c:.2f}x cat's time), peak RSS {peak:.0f} MB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
