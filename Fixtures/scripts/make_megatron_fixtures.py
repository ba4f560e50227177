#!/usr/bin/env python3
"""Megatron indexed datasets written by megatron-core's own IndexedDatasetBuilder, for `encode --format megatron`.

    python3 Fixtures/scripts/make_megatron_fixtures.py    # writes Fixtures/megatron/

The documents are Fixtures/megatron/docs.jsonl (field "text"; an empty one and non-ASCII ones among them). Each is
tokenized with Hugging Face `tokenizers` and added as Megatron-LM's tools/preprocess_data.py does without sentence
splitting: one sequence per document, `--append-eod` only on documents with tokens, and the dtype
`DType.optimal_dtype(vocab_size)` picks (int32 for Qwen2's vocabulary, uint16 for the 320-token one). Every dataset
is read back with megatron-core's IndexedDataset and checked against the ids before it is kept.

Outputs (PREFIX.bin + PREFIX.idx): qwen2 (no eod), qwen2-eod (eod 151643), tiny-eod (the 320-token tokenizer of
Fixtures/checkpoints, eod 296); merged: megatron-core's `add_index` of qwen2-eod then
qwen2 (what Megatron-LM's tools/merge_datasets.py does), for `qwenkit merge`.
"""
import json, os, pathlib, sys, tempfile, warnings
import numpy
import zstandard
from tokenizers import Tokenizer

warnings.filterwarnings("ignore")
from megatron.core.datasets.indexed_dataset import DType, IndexedDataset, IndexedDatasetBuilder  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "Fixtures" / "megatron"

DOCS = [
    "Hello, world!",
    "",
    "The quick brown fox jumps over the lazy dog.\nSecond line.",
    "通义千问是阿里巴巴的大语言模型。",
    "   leading spaces and <|endoftext|> special text",
    "Emoji 😀 and accents: café, naïve, Ångström.",
    "x",
    "def f(x):\n    return x * 2\n",
    "",
    "数字 12345 and numbers 3.14159",
]


def qwen2():
    data = zstandard.ZstdDecompressor().decompressobj().decompress((ROOT / "Fixtures/tokenizers/qwen2/tokenizer.json.zst").read_bytes())
    return Tokenizer.from_str(data.decode())


def tiny():
    return Tokenizer.from_file(str(ROOT / "Fixtures/checkpoints/q2-tied/tokenizer.json"))


def build(prefix, tokenizer, eod):
    vocab_size = tokenizer.get_vocab_size(with_added_tokens=True)
    dtype = DType.optimal_dtype(vocab_size)
    builder = IndexedDatasetBuilder(str(prefix) + ".bin", dtype=dtype)
    expected = []
    for text in DOCS:
        ids = tokenizer.encode(text, add_special_tokens=False).ids
        if ids and eod is not None:
            ids = ids + [eod]
        # preprocess_data.py: sentence_lens holds only non-empty sentences; add_document even when empty.
        builder.add_document(numpy.array(ids, dtype=numpy.int64), [len(ids)] if ids else [])
        expected.append(ids)
    builder.finalize(str(prefix) + ".idx")
    check(prefix, expected)
    return dtype, expected


def check(prefix, expected_docs):
    dataset = IndexedDataset(str(prefix), mmap=True)
    sequences = [ids for ids in expected_docs if ids]
    assert len(dataset) == len(sequences), (len(dataset), len(sequences))
    for k, ids in enumerate(sequences):
        assert dataset[k].tolist() == ids, k
    assert len(dataset.document_indices) == len(expected_docs) + 1


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    with open(OUT / "docs.jsonl", "w", encoding="utf-8") as f:
        for k, text in enumerate(DOCS):
            f.write(json.dumps({"id": k, "text": text}, ensure_ascii=False) + "\n")
    q = qwen2()
    summary = {}
    for name, tok, eod in [("qwen2", q, None), ("qwen2-eod", q, 151643), ("tiny-eod", tiny(), 296)]:
        dtype, docs = build(OUT / name, tok, eod)
        summary[name] = {"dtype": dtype.__name__, "documents": len(docs), "tokens": sum(map(len, docs))}
    # tools/merge_datasets.py: a builder with the first input's dtype, add_index of each prefix in order.
    builder = IndexedDatasetBuilder(str(OUT / "merged.bin"), dtype=numpy.int32)
    for name in ["qwen2-eod", "qwen2"]:
        builder.add_index(str(OUT / name))
    builder.finalize(str(OUT / "merged.idx"))
    merged = IndexedDataset(str(OUT / "merged"), mmap=True)
    assert len(merged) == len(IndexedDataset(str(OUT / "qwen2-eod"))) + len(IndexedDataset(str(OUT / "qwen2")))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
