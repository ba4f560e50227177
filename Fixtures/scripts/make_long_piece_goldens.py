#!/usr/bin/env python3
"""Golden ids for single pretokens too long for ordinary BPE: runs of spaces, of one letter, of random
letters, of CJK ideographs or Hangul without punctuation, of punctuation and of whitespace (issue: linear time and
bounded memory on any input). Each text is made by a generator the Swift test repeats exactly (a 64-bit
LCG), so only the generator and a digest of Hugging Face `tokenizers`' ids are committed.

    python3 Fixtures/scripts/make_long_piece_goldens.py    # writes Fixtures/tokenizer-golden/long-pieces.jsonl

Digest: FNV-1a 64 over the ids as little-endian uint32 bytes; plus the count and the first and last 24 ids.
"""
import json, pathlib, zstandard
from tokenizers import Tokenizer
from golden_digest import fnv1a64, lcg

ROOT = pathlib.Path(__file__).resolve().parents[2]



def segment(spec):
    """spec: {"alphabet": [code points] or "range": [lo, hi] or "units": [[code points], ...], "chars": n, "seed": s}
    ("units": n strings picked from the list, for text NFC changes, such as letters with combining marks.)"""
    n = spec["chars"]
    if "units" in spec:
        units = ["".join(chr(c) for c in u) for u in spec["units"]]
        if len(units) == 1:
            return units[0] * n
        g = lcg(spec["seed"])
        return "".join(units[next(g) % len(units)] for _ in range(n))
    if "alphabet" in spec:
        alphabet = [chr(c) for c in spec["alphabet"]]
        if len(alphabet) == 1:
            return alphabet[0] * n
        g = lcg(spec["seed"])
        return "".join(alphabet[next(g) % len(alphabet)] for _ in range(n))
    lo, hi = spec["range"]
    g = lcg(spec["seed"])
    return "".join(chr(lo + next(g) % (hi - lo + 1)) for _ in range(n))


def text_of(case):
    return "".join(segment(s) for s in case["segments"])


def letters(s):
    return [ord(c) for c in s]


CASES = [
    ("spaces", [{"alphabet": [0x20], "chars": 300_000}]),
    ("one-letter", [{"alphabet": [ord("a")], "chars": 300_000}]),
    ("random-letters", [{"alphabet": letters("abcdefghijklmnopqrstuvwxyz"), "chars": 200_000, "seed": 1}]),
    ("random-mixed-case", [{"alphabet": letters("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"), "chars": 120_000, "seed": 2}]),
    ("random-cjk", [{"range": [0x4E00, 0x9FA5], "chars": 60_000, "seed": 3}]),
    ("common-cjk", [{"alphabet": letters("的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长"), "chars": 80_000, "seed": 4}]),
    ("random-hangul", [{"range": [0xAC00, 0xD7A3], "chars": 40_000, "seed": 5}]),
    ("random-punctuation", [{"alphabet": letters("-=_*#~.!?/"), "chars": 150_000, "seed": 6}]),
    ("dashes", [{"alphabet": [ord("-")], "chars": 200_000}]),
    ("random-whitespace", [{"alphabet": [0x20, 0x09, 0x0A, 0x0D], "chars": 150_000, "seed": 10}]),
    ("newlines", [{"alphabet": [0x0A], "chars": 100_000}]),
    ("control-characters", [{"alphabet": [0x01, 0x02, 0x1B, 0x1F, 0x7F], "chars": 150_000, "seed": 18}]),
    ("vertical-tabs-and-form-feeds", [{"alphabet": [0x0B, 0x0C], "chars": 150_000, "seed": 19}]),
    # What --invalid replace makes of a run of invalid bytes (the test feeds one 0xFF per character).
    ("replacement-characters", [{"alphabet": [0xFFFD], "chars": 100_000}]),
    ("spaces-then-a-newline", [{"alphabet": [0x20], "chars": 100_000}, {"alphabet": [0x0A], "chars": 1},
                               {"alphabet": [0x20], "chars": 50_000}, {"alphabet": [ord("z")], "chars": 1}]),
    ("random-cyrillic", [{"range": [0x0430, 0x044F], "chars": 100_000, "seed": 11}]),
    ("letters-of-many-scripts", [{"alphabet": letters("aжλשبदকกᄀ가中ひカ"), "chars": 60_000, "seed": 12}]),
    ("emoji", [{"alphabet": [0x1F600, 0x1F602, 0x1F44D, 0x1F3FD, 0x2764, 0xFE0F, 0x1F680, 0x2728, 0x2605, 0x2192], "chars": 40_000, "seed": 13}]),
    ("cjk-extension-b", [{"range": [0x20000, 0x2A6DF], "chars": 40_000, "seed": 14}]),
    # NFD text: a run of letters only once NFC composes them (the cut is sought in the NFC form).
    ("nfd-one-letter", [{"units": [[ord("e"), 0x301]], "chars": 100_000}]),
    ("nfd-accented-letters", [{"units": [[ord("e"), 0x301], [ord("a"), 0x300], [ord("o"), 0x302, 0x301], [ord("u"), 0x308],
                                         [ord("n"), 0x303], [ord("c")]], "chars": 60_000, "seed": 15}]),
    ("hangul-jamo", [{"units": [[0x1100, 0x1161], [0x1100, 0x1161, 0x11A8], [0x1112, 0x1173, 0x11AB], [0x110B, 0x1175]],
                      "chars": 40_000, "seed": 16}]),
    # One combining mark repeated: NFC composes the first few with what precedes and leaves the rest.
    ("combining-marks", [{"alphabet": [0x301], "chars": 100_000}]),
    ("letter-then-marks", [{"units": [[ord("a"), 0x302]], "chars": 1}, {"alphabet": [0x301], "chars": 100_000}]),
    ("words-then-marks", [{"alphabet": letters("abc "), "chars": 1_000, "seed": 17}, {"alphabet": [0x308], "chars": 80_000}]),
    ("runs-one-after-another", [
        {"alphabet": letters("xy"), "chars": 50_000, "seed": 7},
        {"alphabet": [0x20], "chars": 70_001},
        {"range": [0x4E00, 0x9FA5], "chars": 20_000, "seed": 8},
        {"alphabet": [0x20], "chars": 1},
        {"alphabet": [ord("q")], "chars": 50_000},
        {"alphabet": [0x0A], "chars": 1},
        {"alphabet": [0x20], "chars": 33_333},
        {"alphabet": letters("ab"), "chars": 40_000, "seed": 9},
    ]),
]


def ids_digest(ids):
    """FNV-1a 64 over the ids as little-endian uint32 bytes."""
    return fnv1a64(b"".join(i.to_bytes(4, "little") for i in ids))


def main():
    with (ROOT / "Fixtures/tokenizers/qwen2/tokenizer.json.zst").open("rb") as f:
        raw = zstandard.ZstdDecompressor().stream_reader(f).read()
    tok = Tokenizer.from_str(raw.decode())
    out = ROOT / "Fixtures/tokenizer-golden/long-pieces.jsonl"
    with out.open("w") as f:
        for name, segments in CASES:
            case = {"segments": segments}
            text = text_of(case)
            ids = tok.encode(text, add_special_tokens=False).ids
            line = {"name": name, "segments": segments, "bytes": len(text.encode()), "count": len(ids),
                    "fnv1a64": "%016x" % ids_digest(ids), "head": ids[:24], "tail": ids[-24:]}
            f.write(json.dumps(line, separators=(",", ":")) + "\n")
            print(name, line["bytes"], "bytes", len(ids), "ids")


if __name__ == "__main__":
    main()
