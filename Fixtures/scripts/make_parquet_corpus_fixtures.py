#!/usr/bin/env python3
"""A parquet corpus and Hugging Face's ids for each of its rows, for `encode --parquet`.

    python3 Fixtures/scripts/make_parquet_corpus_fixtures.py    # writes Fixtures/parquet-corpus/

corpus.parquet (pyarrow, snappy, dictionary on, row groups of 40 rows, data pages of 2 KB): 300 rows of columns
text (string: prose, CJK, emoji, code, empty strings, and nulls every 37th row), id (int64), score (double, multiples
of 1/8 so every float prints the same in Python and Swift), lang (string, some null), blob (binary, not carried).
expected.jsonl: what `encode --parquet text --format jsonl --bad-records skip` writes for it: per non-null row
{"ids": HF ids, "id": ..., "score": ..., "lang": ...}; nulls.txt: the rows whose text is null.
"""
import json, pathlib, random
import pyarrow as pa
import pyarrow.parquet as pq
import zstandard
from tokenizers import Tokenizer

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "Fixtures" / "parquet-corpus"
PIECES = ["Hello, world!", "The quick brown fox", "通义千问", "大语言模型的训练数据", "😀🚀", "naïve café", "def f(x):\n    return x\n",
          "  spaces  ", "Привет мир", "<|endoftext|>", "12345 67890", "\t tab", "한국어 텍스트", "…", ""]


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    rng = random.Random(9)
    rows = []
    for k in range(300):
        text = None if k % 37 == 5 else " ".join(rng.choice(PIECES) for _ in range(rng.randint(0, 40 if k % 50 else 400)))
        rows.append({"text": text, "id": k * 1000 - 7, "score": rng.randint(-80, 80) / 8,
                     "lang": None if k % 11 == 3 else rng.choice(["en", "zh", "ko", "ru"]), "blob": bytes([k % 256, 0xFF])})
    table = pa.Table.from_pylist(rows, schema=pa.schema([("text", pa.string()), ("id", pa.int64()), ("score", pa.float64()),
                                                          ("lang", pa.string()), ("blob", pa.binary())]))
    pq.write_table(table, OUT / "corpus.parquet", compression="snappy", row_group_size=40, data_page_size=2048)
    data = zstandard.ZstdDecompressor().decompressobj().decompress((ROOT / "Fixtures/tokenizers/qwen2/tokenizer.json.zst").read_bytes())
    tok = Tokenizer.from_str(data.decode())
    with open(OUT / "expected.jsonl", "w", encoding="utf-8") as f, open(OUT / "nulls.txt", "w") as nulls:
        for k, r in enumerate(rows):
            if r["text"] is None:
                nulls.write(f"{k}\n")
                continue
            ids = tok.encode(r["text"], add_special_tokens=False).ids
            f.write(json.dumps({"ids": ids, "id": r["id"], "score": r["score"], "lang": r["lang"]}, separators=(",", ":"),
                               ensure_ascii=False) + "\n")
    print(pq.ParquetFile(OUT / "corpus.parquet").metadata.num_row_groups, "row groups")


if __name__ == "__main__":
    main()
