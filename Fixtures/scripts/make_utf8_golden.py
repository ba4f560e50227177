#!/usr/bin/env python3
"""Golden data for QwenKitIO's UTF-8 validation, U+FFFD replacement and JSON escaping, from CPython itself.

Writes Fixtures/utf8-golden/replace.jsonl: a header line {"_meta": ...} (generator, Python version, seed), then
one JSON object per case:
  name          a label (tricky cases) or "random-N"
  in            the input bytes, hex
  out           bytes.decode('utf-8', errors='replace').encode('utf-8'), hex
  first_invalid UnicodeDecodeError.start of the strict decode, or null if the input is valid
  json          json.dumps(<out decoded>, ensure_ascii=False) without the surrounding quotes, UTF-8, hex

The tricky cases cover every row of Unicode Table 3-7 and its edges (overlongs, surrogates, > U+10FFFF,
truncation at the end and in the middle, stray continuation bytes); the random cases (fixed seed) splice
valid characters of every length, control characters, quotes, backslashes and (in every other case)
broken sequences.
Standard library only; deterministic for a given Python version. Usage: python3 Fixtures/scripts/make_utf8_golden.py
"""
import json
import os
import platform
import random

SEED = 20240611
RANDOM_CASES = 400
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "utf8-golden", "replace.jsonl")

TRICKY = [
    ("empty", b""),
    ("ascii", b"hello, world"),
    ("nul and controls", b"a\x00b\x01\x1f\x7f"),
    ("2-byte min U+0080", b"\xc2\x80"),
    ("2-byte max U+07FF", b"\xdf\xbf"),
    ("3-byte min U+0800", b"\xe0\xa0\x80"),
    ("3-byte U+FFFF", b"\xef\xbf\xbf"),
    ("4-byte min U+10000", b"\xf0\x90\x80\x80"),
    ("4-byte max U+10FFFF", b"\xf4\x8f\xbf\xbf"),
    ("U+D7FF before surrogates", b"\xed\x9f\xbf"),
    ("U+E000 after surrogates", b"\xee\x80\x80"),
    ("U+2028 U+2029", "x\u2028y\u2029z".encode()),
    ("BOM", b"\xef\xbb\xbfabc"),
    ("CJK", "漢字かなカナ한국어".encode()),
    ("emoji", "👍🏽 family 👨‍👩‍👧".encode()),
    ("overlong C0 80 (NUL)", b"\xc0\x80"),
    ("overlong C1 BF", b"\xc1\xbf"),
    ("overlong E0 80 80", b"\xe0\x80\x80"),
    ("overlong E0 9F BF", b"\xe0\x9f\xbf"),
    ("overlong F0 80 80 80", b"\xf0\x80\x80\x80"),
    ("overlong F0 8F BF BF", b"\xf0\x8f\xbf\xbf"),
    ("surrogate U+D800", b"\xed\xa0\x80"),
    ("surrogate U+DFFF", b"\xed\xbf\xbf"),
    ("surrogate pair as CESU-8", b"\xed\xa0\xbd\xed\xb8\x80"),
    ("above U+10FFFF: F4 90", b"\xf4\x90\x80\x80"),
    ("F5 lead", b"\xf5\x80\x80\x80"),
    ("FF byte", b"a\xffb"),
    ("FE FF", b"\xfe\xff"),
    ("stray continuation", b"a\x80b"),
    ("stray continuations x3", b"\x80\xbf\x80"),
    ("truncated 2-byte at end", b"ab\xc3"),
    ("truncated 3-byte at end (1 of 3)", b"ab\xe4"),
    ("truncated 3-byte at end (2 of 3)", b"ab\xe4\xb8"),
    ("truncated 4-byte at end (3 of 4)", b"ab\xf0\x9f\x98"),
    ("truncated 3-byte then ASCII", b"\xe4\xb8A"),
    ("truncated 4-byte then ASCII", b"\xf0\x9f\x98A"),
    ("truncated 4-byte then new lead", b"\xf0\x9f\xe4\xb8\xad"),
    ("lead then lead", b"\xc3\xc3\xa9"),
    ("E0 then invalid second byte", b"\xe0\x80"),
    ("ED then A0 at end", b"\xed\xa0"),
    ("F0 then 80 at end", b"\xf0\x80"),
    ("F4 then 90 at end", b"\xf4\x90"),
    ("valid then invalid after 40 ASCII", b"x" * 40 + b"\xc3\xa9" + b"y" * 30 + b"\xc0"),
    ("invalid after long ASCII run", b"a" * 100 + b"\xff" + b"b" * 5),
    ("invalid after long CJK run", "中".encode() * 50 + b"\xff"),
    ("truncated after long CJK run", "中".encode() * 50 + b"\xe4\xb8"),
    ("4-byte split across a 64-byte block", b"a" * 62 + "😀".encode() + b"\xed\xa0\x80"),
    ("Unicode 5.22 example", b"\x61\xf1\x80\x80\xe1\x80\xc2\x62\x80\x63\x80\xbf\x64"),
    ("quote and backslash", b'say "hi" \\ bye'),
    ("JSON named escapes", b"\b\f\n\r\t"),
    ("DEL stays raw", b"\x7f"),
]


def case(name, data):
    if isinstance(data, str):
        data = data.encode("utf-8", errors="surrogateescape")
    try:
        data.decode("utf-8")
        first_invalid = None
    except UnicodeDecodeError as e:
        first_invalid = e.start
    text = data.decode("utf-8", errors="replace")
    return {
        "name": name,
        "in": data.hex(),
        "out": text.encode("utf-8").hex(),
        "first_invalid": first_invalid,
        "json": json.dumps(text, ensure_ascii=False)[1:-1].encode("utf-8").hex(),
    }


def random_piece(rng, valid_only):
    kind = rng.randrange(6 if valid_only else 12)
    if kind <= 2:
        return bytes(rng.choice(b"abcxyz XYZ0123.,;\n") for _ in range(rng.randrange(1, 12)))
    if kind == 3:
        return bytes([rng.choice([0, 1, 8, 9, 10, 12, 13, 27, 31, 0x22, 0x5C, 0x7F])])
    if kind == 4:  # a valid character of 2, 3 or 4 bytes, boundaries favoured
        cp = rng.choice([0x80, 0x7FF, 0x800, 0xFFFF, 0x10000, 0x10FFFF, 0xD7FF, 0xE000, 0x2028, 0x2029,
                         0xFEFF, rng.randrange(0x80, 0x800), rng.randrange(0x800, 0xD800),
                         rng.randrange(0xE000, 0x10000), rng.randrange(0x10000, 0x110000)])
        return chr(cp).encode()
    if kind == 5:
        return rng.choice(["中文", "日本語", "한국어", "é", "ß", "Ω", "😀", "🇺🇸"]).encode()
    if kind == 6:  # a random byte, usually not ASCII
        return bytes([rng.randrange(0x80, 0x100)])
    if kind == 7:  # a valid multi-byte character cut short
        enc = chr(rng.randrange(0x80, 0x110000)).encode("utf-8", errors="surrogatepass")
        return enc[: rng.randrange(1, len(enc))]
    if kind == 8:  # surrogates and overlongs
        return rng.choice([b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xf0\x80\x80\xaf",
                           b"\xf4\x90\x80\x80", b"\xf8\x88\x80\x80\x80"])
    if kind == 9:
        return bytes([rng.randrange(0x80, 0xC0)]) * rng.randrange(1, 4)
    if kind == 10:
        return bytes([rng.choice([0xC2, 0xDF, 0xE0, 0xE1, 0xED, 0xEF, 0xF0, 0xF1, 0xF4, 0xF5])])
    return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 6)))


def main():
    rng = random.Random(SEED)
    cases = [case(name, data) for name, data in TRICKY]
    for i in range(RANDOM_CASES):
        valid_only = i % 2 == 0  # half the random cases are valid UTF-8 (JSON escaping, no false alarms)
        data = b"".join(random_piece(rng, valid_only) for _ in range(rng.randrange(0, 30)))
        cases.append(case(f"random-{i}", data))
    meta = {"_meta": {"generator": "Fixtures/scripts/make_utf8_golden.py", "python": platform.python_version(),
                      "seed": SEED, "cases": len(cases)}}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps(meta) + "\n")
        for c in cases:
            f.write(json.dumps(c) + "\n")
    print(f"wrote {len(cases)} cases to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
