#!/usr/bin/env python3
"""Runs README's Ray Data recipe on a local Ray cluster and checks it against one qwenkit run.

    python3 Fixtures/scripts/check_ray_recipe.py [--qwenkit .build/release/qwenkit] [--workdir /tmp/qwenkit-ray]

Needs ray[data] (PyPI); not part of CI. The corpus is made as check_spark_recipe.py makes it (8 JSONL files of 3,000
records). One Ray Data row per shard, each mapped to `qwenkit encode --shard k/N` (Megatron output), then
`qwenkit merge`: the merged dataset must equal a single run byte for byte.
"""
import pathlib, subprocess, sys, time

import ray

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from check_spark_recipe import prepare  # noqa: E402


def main():
    args, qwenkit, work, inputs = prepare("/tmp/qwenkit-ray")
    subprocess.run([qwenkit, "encode", "--jsonl", "text", "--format", "megatron", "--eod", "151643", *inputs,
                    "-o", str(work / "single")], check=True)

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    started = time.time()
    n = args.shards
    shard_dir = work / "shards"
    shard_dir.mkdir()

    def encode_shard(row):
        k = row["id"]
        prefix = f"{shard_dir}/shard-{k:04d}"
        subprocess.run([qwenkit, "encode", "--shard", f"{k}/{n}", "--threads", "1", "--skip-existing",
                        "--jsonl", "text", "--format", "megatron", "--eod", "151643", *inputs, "-o", prefix], check=True)
        return {"id": k, "prefix": prefix}

    done = sorted(ray.data.range(n).map(encode_shard).take_all(), key=lambda r: r["id"])
    subprocess.run([qwenkit, "merge", "-o", str(work / "merged"), *[r["prefix"] for r in done]], check=True)
    same = all((work / f"merged{s}").read_bytes() == (work / f"single{s}").read_bytes() for s in (".bin", ".idx"))
    print(f"Ray Data (--shard per row, merge): {n} shards, merged dataset "
          f"{'identical to' if same else 'DIFFERENT from'} one run ({time.time() - started:.1f} s)")
    ray.shutdown()
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
