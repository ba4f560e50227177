#!/usr/bin/env python3
"""Packed and flat .npy outputs of Fixtures/megatron/docs.jsonl, made independently in Python, for
`encode --format npy` and `--pack`.

    python3 Fixtures/scripts/make_packing_fixtures.py    # writes Fixtures/packing/

Ids: Hugging Face `tokenizers` with Qwen2's tokenizer, each document followed by <|endoftext|> (151643), as
`encode --eod 151643` writes them (an empty document is then [151643]). Arrays are written by numpy.save (so the
bytes, header included, are numpy's own); row boundaries (PATH.cu_seqlens.jsonl) one JSON list per row.
- flat.npy: every id, shape (n,)
- concat16.npy: the ids back to back in rows of 16, the last padded with 151643
- bfd16.npy: best-fit decreasing over rows of 16: a document longer than 16 gives whole rows at once and its
  remainder is packed; the rest sorted longest first (ties in input order), each into the row with the least free
  space that fits it (of several, the first row made), else a new row; rows padded with 151643.
"""
import json, pathlib
import numpy
import zstandard
from tokenizers import Tokenizer

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "Fixtures" / "packing"
EOD = 151643
L = 16


def documents():
    data = zstandard.ZstdDecompressor().decompressobj().decompress((ROOT / "Fixtures/tokenizers/qwen2/tokenizer.json.zst").read_bytes())
    tok = Tokenizer.from_str(data.decode())
    with open(ROOT / "Fixtures/megatron/docs.jsonl", encoding="utf-8") as f:
        return [tok.encode(json.loads(line)["text"], add_special_tokens=False).ids + [EOD] for line in f]


def save(name, rows, bounds):
    numpy.save(OUT / name, numpy.array(rows, dtype="<u4"))
    if bounds is not None:
        with open(OUT / (name + ".cu_seqlens.jsonl"), "w") as f:
            for b in bounds:
                f.write(json.dumps(b, separators=(",", ":")) + "\n")


def concat(docs):
    rows, bounds, row, starts = [], [], [], [0]
    for doc in docs:
        for x in doc:
            row.append(x)
            if len(row) == L:
                rows.append(row); bounds.append(starts + [L]); row, starts = [], [0]
        if row:
            starts.append(len(row))
    if row:
        if starts[-1] == len(row):
            starts.pop()
        bounds.append(starts + [len(row)])
        rows.append(row + [EOD] * (L - len(row)))
    return rows, bounds


def bfd(docs):
    rows, bounds, pool = [], [], []
    for doc in docs:
        while len(doc) > L:
            rows.append(doc[:L]); bounds.append([0, L]); doc = doc[L:]
        if doc:
            pool.append(doc)
    order = sorted(range(len(pool)), key=lambda i: (-len(pool[i]), i))
    packed, free = [], []
    for i in order:
        fits = [r for r in range(len(packed)) if free[r] >= len(pool[i])]
        if fits:
            r = min(fits, key=lambda r: (free[r], r))
            packed[r].append(i); free[r] -= len(pool[i])
        else:
            packed.append([i]); free.append(L - len(pool[i]))
    for placed in packed:
        row, starts = [], []
        for i in placed:
            starts.append(len(row)); row += pool[i]
        bounds.append(starts + [len(row)])
        rows.append(row + [EOD] * (L - len(row)))
    return rows, bounds


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    docs = documents()
    save("flat.npy", [x for d in docs for x in d], None)
    save("concat16.npy", *concat(docs))
    save("bfd16.npy", *bfd(docs))
    print(len(docs), sum(map(len, docs)))


if __name__ == "__main__":
    main()
