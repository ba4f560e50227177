#!/usr/bin/env python3
"""Time and peak memory of `qwenkit count` on single pretokens of 1 GiB (issue 15: linear time, bounded
memory on any input), against its per-byte time on ordinary text, and (with --hf) Hugging Face tokenizers
on a 10 MB slice of each kind.

    python3 Fixtures/bench/bench_long_pieces.py --qwenkit .build/release/qwenkit [--gib 1] [--hf TOKENIZER_JSON]

The runs are generated on the fly and piped in (nothing is written to disk): a run of spaces, of one
letter, of CJK ideographs without punctuation (a 1 MB block of real Chinese text with everything but
ideographs removed, repeated) and of random lowercase letters (a 1 MB random block, repeated). The
ordinary-text figure is `count` on the mixed benchmark corpus (Fixtures/bench/make_corpus.py), repeated
to 64 MB. One thread; peak RSS of the qwenkit process alone; start-up (`count` of one line) subtracted
from the per-byte times.
"""
import argparse, os, random, subprocess, sys, time

BLOCK = 1 << 20


def block(kind, cjk_source):
    if kind == "spaces":
        return b" " * BLOCK
    if kind == "one letter":
        return b"a" * BLOCK
    if kind == "CJK":
        text = open(cjk_source, encoding="utf-8").read()
        han = "".join(ch for ch in text if "\u4e00" <= ch <= "\u9fff").encode()
        han = (han * (BLOCK // len(han) + 1))[: BLOCK // 3 * 3]
        return han
    rng = random.Random(1)
    return bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(BLOCK))


def timed(cmd, data_block, total):
    """Runs cmd with `total` bytes of data_block repeated on stdin; returns (wall, cpu, peak RSS MB)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    sent = 0
    try:
        while sent < total:
            chunk = data_block[: min(len(data_block), total - sent)]
            p.stdin.write(chunk)
            sent += len(chunk)
        p.stdin.close()
    except BrokenPipeError:
        pass
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    if status != 0:
        sys.exit(f"failed ({status}): {' '.join(cmd)}: {p.stderr.read().decode()}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def hf_run(tokenizer_json, text):
    code = ("import sys, time, resource; from tokenizers import Tokenizer; t = Tokenizer.from_file(sys.argv[1]); "
            "s = sys.stdin.buffer.read().decode(); t0 = time.process_time(); t.encode(s, add_special_tokens=False); "
            "print(time.process_time() - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)")
    out = subprocess.run([sys.executable, "-c", code, tokenizer_json], input=text, capture_output=True)
    if out.returncode != 0:  # e.g. Oniguruma's "retry-limit-in-match over" on 10 MB of spaces
        return out.stderr.decode().strip().splitlines()[-1].split(": ", 1)[-1]
    cpu, rss = out.stdout.split()
    return f"{float(cpu):.1f} s | {float(rss):.0f} MB"



def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qwenkit", default=".build/release/qwenkit")
    ap.add_argument("--gib", type=float, default=1.0)
    ap.add_argument("--corpus-dir", default="/tmp/qwenkit-bench")
    ap.add_argument("--hf", help="tokenizer.json for the Hugging Face comparison on 10 MB")
    ap.add_argument("--kinds", default="spaces,one letter,CJK,random letters")
    a = ap.parse_args()
    total = int(a.gib * (1 << 30))
    cmd = [a.qwenkit, "count", "--threads", "1", "-"]
    _, startup_cpu, base_rss = timed(cmd, b"hi\n", 3)
    mixed = open(os.path.join(a.corpus_dir, "mixed.txt"), "rb").read()
    _, cpu, _ = timed(cmd, mixed, 64 << 20)
    ordinary = (cpu - startup_cpu) / (64 << 20) * 1e9
    print(f"start-up: {startup_cpu * 1e3:.0f} ms CPU, {base_rss:.0f} MB peak RSS (the tokenizer's tables)")
    print(f"ordinary text (mixed corpus, 64 MB): {ordinary:.1f} ns per byte\n")
    print(f"| run of {a.gib:g} GiB | wall | CPU | ns per byte | × ordinary | peak RSS | above tables |"
          + (" HF, 10 MB: CPU | HF RSS |" if a.hf else ""))
    print("|---|---:|---:|---:|---:|---:|---:|" + ("---:|---:|" if a.hf else ""))
    for kind in a.kinds.split(","):
        data = block(kind, os.path.join(a.corpus_dir, "cjk.txt"))
        size = total // 3 * 3 if kind == "CJK" else total  # whole characters
        wall, cpu, rss = timed(cmd, data, size)
        per = (cpu - startup_cpu) / size * 1e9
        row = f"| {kind} | {wall:.1f} s | {cpu:.1f} s | {per:.1f} | {per / ordinary:.2f} | {rss:.0f} MB | {rss - base_rss:.0f} MB |"
        if a.hf:
            ten = (data * 10)[: 10 * 10**6 // 3 * 3]
            result = hf_run(a.hf, ten)
            row += f" {result} |" if "|" in result else f" fails: {result} | |"
        print(row, flush=True)


if __name__ == "__main__":
    main()
