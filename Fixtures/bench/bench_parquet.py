#!/usr/bin/env python3
"""Benchmark the Parquet target's reader against pyarrow on the same file: MB of text per second, one thread.

The file (never committed) is made once in WORKDIR (default /tmp/qwenkit-bench/parquet/bench.parquet): ~200 MB of
text in a string column `text` (documents of 200-8,000 bytes: words of a 20,000-word random vocabulary drawn with
Zipf frequencies as in natural text, with punctuation, newlines and some non-ASCII words, from a fixed seed; snappy
compresses it about as much as English), an INT64 `id` and a DOUBLE `score`; written by
pyarrow with its defaults (snappy, dictionary on: the text column's dictionary overflows and falls back to PLAIN
pages, as with real datasets, data pages of 1 MB) and row groups of 10,000 rows.

Measured, each the best of --rounds rounds (alternating the readers) of --repeat runs after a warm-up (the file in
the page cache for everyone):
  qwenkit         ParquetRowCursor over `text` (ParquetBenchmark in Tests/ParquetTests, release build, one thread):
                  every row's text pointer, a touch of its first and last byte
  qwenkit+carry   the same with `id` and `score` rendered as JSON per row
  pyarrow-1       pq.read_table(path, columns=["text"], use_threads=False): the column decoded into one Arrow array
  pyarrow         the same with pyarrow's thread pool (all cores), for reference
MB = 10^6 bytes of text (the sum of the UTF-8 lengths of the non-null values).

Usage:
  python3 Fixtures/bench/bench_parquet.py [--workdir DIR] [--repeat N] [--rounds N] [--skip-build] [--scratch .build]
The Swift side runs `swift test -c release --filter ParquetBenchmark` (a release build of the test targets the
first time: minutes).
"""
import argparse
import os
import pathlib
import subprocess
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent
TARGET_BYTES = 200_000_000


def make_file(path):
    rng = np.random.default_rng(20261206)
    letters = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz", dtype=np.uint8)
    vocabulary = []
    for _ in range(20_000):
        n = int(rng.integers(2, 11))
        vocabulary.append(bytes(letters[rng.integers(0, 26, n)]).decode())
    vocabulary += ["naïve", "café", "漢字", "かな", "Привет", "😀", "—", "über"] * 10
    vocabulary += [w + "," for w in vocabulary[:2000]] + [w + ".\n" for w in vocabulary[2000:3000]]
    words = np.array(vocabulary, dtype=object)
    texts, total = [], 0
    while total < TARGET_BYTES:
        n = int(rng.integers(30, 1300))
        text = " ".join(words[(rng.zipf(1.15, n) - 1) % len(words)])  # word frequencies of natural text
        texts.append(text)
        total += len(text.encode())
    table = pa.table({
        "id": pa.array(np.arange(len(texts), dtype=np.int64)),
        "text": pa.array(texts, pa.string()),
        "score": pa.array(rng.random(len(texts))),
    })
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, row_group_size=10_000)
    return total


def text_bytes(path):
    import pyarrow.compute as pc
    column = pq.read_table(path, columns=["text"]).column("text")
    return pc.sum(pc.binary_length(column)).as_py() or 0


def best_of(repeat, body):
    body()  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        body()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", default="/tmp/qwenkit-bench/parquet")
    parser.add_argument("--repeat", type=int, default=5, help="runs per reader per round (the best is kept)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds alternating the readers")
    parser.add_argument("--skip-build", action="store_true", help="pass --skip-build to swift test")
    parser.add_argument("--scratch", default=".build", help="swift --scratch-path")
    args = parser.parse_args()

    path = pathlib.Path(args.workdir) / "bench.parquet"
    if not path.exists():
        print(f"making {path} ...", flush=True)
        make_file(path)
    size = path.stat().st_size
    total = text_bytes(path)
    meta = pq.ParquetFile(path).metadata
    print(f"{path}: {size / 1e6:.1f} MB on disk, {total / 1e6:.1f} MB of text, {meta.num_rows} rows, "
          f"{meta.num_row_groups} row groups, pyarrow {pa.__version__}")

    # Rounds alternate the readers, and each reader's best over all rounds is kept: the machine may be shared, and a
    # burst of someone else's work then slows whichever reader it meets, not one side only.
    results = {}

    def keep(name, seconds):
        results[name] = min(results.get(name, float("inf")), seconds)

    cmd = ["swift", "test", "-c", "release", "--scratch-path", args.scratch, "--filter", "ParquetBenchmark"]
    if args.skip_build:
        cmd.append("--skip-build")
    env = dict(os.environ, QWENKIT_PARQUET_BENCH=str(path), QWENKIT_PARQUET_BENCH_REPEAT=str(args.repeat))
    for _ in range(args.rounds):
        keep("pyarrow-1", best_of(args.repeat, lambda: pq.read_table(path, columns=["text"], use_threads=False)))
        keep("pyarrow", best_of(args.repeat, lambda: pq.read_table(path, columns=["text"], use_threads=True)))
        out = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
        printed = False
        for line in out.stdout.splitlines():
            parts = line.split()
            if parts[:1] == ["parquet-bench"]:
                name = "qwenkit" if parts[1] == "text" else "qwenkit+carry"
                if int(parts[2]) != total:
                    sys.exit(f"{name} read {parts[2]} bytes of text, pyarrow {total}")
                keep(name, float(parts[3]))
                printed = True
        if not printed:
            sys.exit("the Swift benchmark printed nothing:\n" + out.stdout[-3000:] + out.stderr[-3000:])
        if "--skip-build" not in cmd:
            cmd.append("--skip-build")  # the first round built it

    print(f"{'reader':<16}{'seconds':>10}{'MB/s':>10}{'vs pyarrow-1':>14}")
    for name in ["qwenkit", "qwenkit+carry", "pyarrow-1", "pyarrow"]:
        if name in results:
            seconds = results[name]
            print(f"{name:<16}{seconds:>10.3f}{total / seconds / 1e6:>10.0f}{results['pyarrow-1'] / seconds:>13.2f}x")


if __name__ == "__main__":
    main()
