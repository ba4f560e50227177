#!/usr/bin/env python3
"""Differential check of the corpus encoder's cuts inside long runs against Hugging Face `tokenizers`: random
texts of several MB made of the runs that need them (NFD letters, one combining mark repeated, numbers of other
scripts, control characters, U+FFFD, Hangul jamo, CJK and letters without a break) joined with short pieces,
encoded by `qwenkit encode --threads 1` and `--threads 2`; the ids must equal HF's. Not run by CI (it needs
Python and minutes); run it after changing SafeSplitFinder or the linear encoder.

    python3 Fixtures/scripts/check_long_runs_against_hf.py [--seeds N] [--qwenkit PATH]
"""
import argparse, pathlib, random, subprocess, zstandard
from tokenizers import Tokenizer

ROOT = pathlib.Path(__file__).resolve().parents[2]

RUNS = [
    lambda r: "e\u0301" * r.randrange(1, 900_000),
    lambda r: "\u0301" * r.randrange(1, 900_000),
    lambda r: "".join(r.choice("١٢٣٤٥٦٧٨٩٠３４５") for _ in range(r.randrange(1, 500_000))),
    lambda r: "".join(r.choice("\x01\x02\x1b\x7f\x0b\x0c") for _ in range(r.randrange(1, 500_000))),
    lambda r: "\ufffd" * r.randrange(1, 500_000),
    lambda r: "".join(r.choice(["\u1100\u1161", "\u1100\u1161\u11a8", "a\u0302"]) for _ in range(r.randrange(1, 300_000))),
    lambda r: "".join(chr(r.randrange(0x4E00, 0x9FA5)) for _ in range(r.randrange(1, 400_000))),
    lambda r: r.choice([" ", "\n", "x", "，", "1", "ab cd", "\u0308"]),
    lambda r: "".join(r.choice("abcdefghij") for _ in range(r.randrange(1, 500_000))),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--qwenkit", default=str(ROOT / ".build/release/qwenkit"))
    a = ap.parse_args()
    raw = zstandard.ZstdDecompressor().stream_reader((ROOT / "Fixtures/tokenizers/qwen2/tokenizer.json.zst").open("rb")).read()
    tok = Tokenizer.from_str(raw.decode())
    bad = 0
    for seed in range(a.seeds):
        r = random.Random(seed)
        text = "".join(r.choice(RUNS)(r) for _ in range(r.randrange(2, 12)))
        ref = tok.encode(text, add_special_tokens=False).ids
        for threads in ("1", "2"):
            out = subprocess.run([a.qwenkit, "encode", "--threads", threads, "--format", "u32", "-"], input=text.encode(), capture_output=True)
            got = list(memoryview(out.stdout).cast("I"))
            ok = got == ref
            bad += not ok
            print(f"seed {seed}, {threads} thread(s): {len(text.encode())} bytes, {len(ref)} ids: " + ("identical" if ok else "DIFFERENT " + out.stderr.decode()[:200]))
    print("all identical" if bad == 0 else f"{bad} different")
    raise SystemExit(1 if bad else 0)


main()
