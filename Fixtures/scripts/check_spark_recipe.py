#!/usr/bin/env python3
"""Runs README's Apache Spark recipes with pyspark in local mode and checks each against one qwenkit run.

    python3 Fixtures/scripts/check_spark_recipe.py [--qwenkit .build/release/qwenkit] [--workdir /tmp/qwenkit-spark]

Needs pyspark (PyPI) and Java 17; not part of CI. The corpus is made here: 8 JSONL files of 3,000 records.
1. JSONL out, one process per partition: sc.textFile(...).pipe("qwenkit encode --jsonl text --format jsonl"),
   saved with saveAsTextFile; its part files concatenated must equal a single run's output line for line.
2. Binary outputs (Megatron), one --shard per task: sc.parallelize(range(N), N).foreach(run shard k), then
   `qwenkit merge`; must equal a single run byte for byte.
"""
import argparse, json, os, pathlib, random, shutil, subprocess, sys, time

from pyspark import SparkContext


def make_corpus(directory, files=8, records=3000):
    rng = random.Random(5)
    words = ["the", "model", "token", "数据", "训练", "naïve", "😀", "12345", "Qwen2", "pipeline", "shard", "merge"]
    paths = []
    for f in range(files):
        path = directory / f"corpus-{f:02d}.jsonl"
        with open(path, "w", encoding="utf-8") as out:
            for r in range(records):
                text = " ".join(rng.choice(words) for _ in range(rng.randint(0, 80)))
                out.write(json.dumps({"id": f"{f}-{r}", "text": text}, ensure_ascii=False) + "\n")
        paths.append(str(path))
    return paths


def prepare(default_workdir):
    """The recipes' common start: flags, the qwenkit binary, a fresh work directory with the corpus in it."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--qwenkit", default=str(pathlib.Path(__file__).resolve().parents[2] / ".build/release/qwenkit"))
    parser.add_argument("--workdir", default=default_workdir)
    parser.add_argument("--shards", type=int, default=6)
    args = parser.parse_args()
    work = pathlib.Path(args.workdir)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    return args, os.path.abspath(args.qwenkit), work, make_corpus(work)


def main():
    args, qwenkit, work, inputs = prepare("/tmp/qwenkit-spark")

    # The single runs everything is compared with.
    subprocess.run([qwenkit, "encode", "--jsonl", "text", "--format", "jsonl", *inputs, "-o", str(work / "single.jsonl")], check=True)
    subprocess.run([qwenkit, "encode", "--jsonl", "text", "--format", "megatron", "--eod", "151643", *inputs,
                    "-o", str(work / "single")], check=True)

    sc = SparkContext("local[2]", "qwenkit-recipe")
    sc.setLogLevel("ERROR")
    try:
        # Recipe 1: JSONL through RDD.pipe (records in, one line of ids out per record, partition order kept).
        started = time.time()
        out = work / "piped"
        (sc.textFile(",".join(inputs))
           .pipe(f"{qwenkit} encode --jsonl text --format jsonl --threads 1")
           .saveAsTextFile(str(out)))
        parts = sorted(out.glob("part-*"))
        piped = b"".join(p.read_bytes() for p in parts)
        same = piped == (work / "single.jsonl").read_bytes()
        records = piped.count(b"\n")
        print(f"recipe 1 (RDD.pipe, JSONL): {len(parts)} partitions, {records} records, "
              f"{'identical to' if same else 'DIFFERENT from'} one run ({time.time() - started:.1f} s)")

        # Recipe 2: one --shard per task, then merge.
        started = time.time()
        n = args.shards
        shard_dir = str(work / "shards")
        os.makedirs(shard_dir)

        def encode_shard(k):
            subprocess.run([qwenkit, "encode", "--shard", f"{k}/{n}", "--threads", "1", "--skip-existing",
                            "--jsonl", "text", "--format", "megatron", "--eod", "151643", *inputs,
                            "-o", f"{shard_dir}/shard-{k:04d}"], check=True)
            return k

        done = sc.parallelize(range(n), n).map(encode_shard).collect()
        subprocess.run([qwenkit, "merge", "-o", str(work / "merged"), *[f"{shard_dir}/shard-{k:04d}" for k in done]], check=True)
        same2 = all((work / f"merged{s}").read_bytes() == (work / f"single{s}").read_bytes() for s in (".bin", ".idx"))
        print(f"recipe 2 (--shard per task, merge): {n} shards, merged dataset "
              f"{'identical to' if same2 else 'DIFFERENT from'} one run ({time.time() - started:.1f} s)")
    finally:
        sc.stop()
    sys.exit(0 if same and same2 else 1)


if __name__ == "__main__":
    main()
