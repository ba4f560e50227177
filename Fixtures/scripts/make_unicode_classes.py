#!/usr/bin/env python3
"""Generate Sources/QwenTokenizer/PreTokenizer/UnicodeClasses.swift: the per-code-point classes that
Qwen2Scanner needs to reproduce Qwen2's pretokenizer regex

    (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+

One flag byte per code point:
  0x01 letter      General_Category L* (Lu Ll Lt Lm Lo), i.e. \\p{L}
  0x02 number      General_Category N* (Nd Nl No), i.e. \\p{N}
  0x04 space       Oniguruma's \\s = Unicode White_Space: U+0009-000D, U+0020, U+0085, U+00A0, U+1680,
                   U+2000-200A, U+2028, U+2029, U+202F, U+205F, U+3000 (not U+001C-001F, U+180E, U+200B,
                   U+FEFF; Python's str.isspace() is wrong here, so the set is spelled out)
  0x08 newline     CR or LF, the [\\r\\n] of the pattern (space is set too)
  0xF0 fold code   (flags >> 4) 1...8 when the code point matches s, t, r, e, v, m, l, d caselessly
                   (the letters of the contractions), else 0. PCRE2 and Oniguruma use simple case
                   folding: a code point matches letter x when its lowercase, uppercase or case fold is
                   x or X. That is S/s, T/t, ... and U+017F LATIN SMALL LETTER LONG S for s (U+212A
                   KELVIN SIGN folds to k, which no contraction has). The script asserts this.

Everything else (punctuation, symbols, marks such as Mn, controls, unassigned, surrogates) is 0: the
pattern's "[^\\s\\p{L}\\p{N}]".

Unicode version: Python's unicodedata (Unicode 14.0.0 on Python 3.11), the version of Debian's PCRE2
10.42 that the tests compare the scanner with. HF tokenizers 0.23.3's Oniguruma knows Unicode 16.0: it
also treats 9,272 code points unassigned in 14.0 as letters (CJK Extensions H and I, Todhri, Kawi, ...)
and 120 as numbers. `--hf-unicode` adds those, probed from the installed `tokenizers` (HF's behaviour, at
the price of no longer agreeing with PCRE2 there; the generated `hfOnlyRanges` lists them so that the
tests skip them when comparing with PCRE2).

Table layout: a two-stage table with 128-code-point blocks. stage1[cp >> 7] is a block number (UInt8),
stage2[block * 128 + (cp & 127)] the flags. Identical blocks are stored once. The bytes (stage1 for
0...0x10FFFF, then stage2) are base64 in a StaticString literal (an integer array literal of this size
compiles slowly), decoded once at first use by the generated `UnicodeClasses.table`.

Deterministic. Usage, from the repository root:
    python3 Fixtures/scripts/make_unicode_classes.py [--hf-unicode]
"""
import argparse
import base64
import hashlib
import os
import platform
import sys
import unicodedata

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SWIFT_OUT = os.path.join(ROOT, "Sources", "QwenTokenizer", "PreTokenizer", "UnicodeClasses.swift")

LETTER, NUMBER, SPACE, NEWLINE = 0x01, 0x02, 0x04, 0x08
FOLD_LETTERS = "strevmld"  # fold codes 1...8
WHITE_SPACE = {*range(0x09, 0x0E), 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029,
               0x202F, 0x205F, 0x3000}
BLOCK_SHIFT = 7
BLOCK = 1 << BLOCK_SHIFT
LIMIT = 0x110000
STAGE1_PADDED = 0x200000 >> BLOCK_SHIFT  # what a 4-byte UTF-8 sequence can decode to, even an invalid one
QWEN2_PATTERN = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"


def fold_code(cp):
    if 0xD800 <= cp < 0xE000:
        return 0
    ch = chr(cp)
    for i, x in enumerate(FOLD_LETTERS):
        if ch.lower() == x or ch.upper() == x.upper() or ch.casefold() == x:
            return i + 1
    return 0


def flags_of(cp):
    if 0xD800 <= cp < 0xE000:
        return 0
    category = unicodedata.category(chr(cp))
    f = 0
    if category[0] == "L":
        f |= LETTER
    elif category[0] == "N":
        f |= NUMBER
    if cp in WHITE_SPACE:
        f |= SPACE
    if cp in (0x0A, 0x0D):
        f |= NEWLINE
    return f | fold_code(cp) << 4


def hf_extras():
    """Code points unassigned in this unicodedata that HF's Oniguruma treats as letters or numbers."""
    from tokenizers import Regex, pre_tokenizers
    split = pre_tokenizers.Split(Regex(QWEN2_PATTERN), "isolated")

    def pieces(s):
        return [p for p, _ in split.pre_tokenize_str(s)]

    extra = {}
    for cp in range(LIMIT):
        if 0xD800 <= cp < 0xE000 or unicodedata.category(chr(cp)) != "Cn":
            continue
        ch = chr(cp)
        p = pieces("a" + ch + "b")
        if p == ["a" + ch + "b"]:
            extra[cp] = LETTER
        elif p == ["a", ch, "b"]:
            extra[cp] = NUMBER
        elif pieces("a" + ch + ch + "1") != ["a", ch + ch, "1"]:
            sys.exit(f"U+{cp:04X}: HF treats this unassigned code point as neither letter, number nor other")
    return extra


def ranges(cps):
    out = []
    for cp in sorted(cps):
        if out and out[-1][1] == cp - 1:
            out[-1][1] = cp
        else:
            out.append([cp, cp])
    return out


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hf-unicode", action="store_true",
                        help="add the letters/numbers HF tokenizers' newer Oniguruma knows (needs `tokenizers`)")
    parser.add_argument("--out", default=SWIFT_OUT)
    args = parser.parse_args()

    flags = bytearray(flags_of(cp) for cp in range(LIMIT))

    # The contraction letters fold exactly as PCRE2 10.42 and Oniguruma fold them (checked with both).
    folded = {x: sorted(cp for cp in range(LIMIT) if flags[cp] >> 4 == i + 1) for i, x in enumerate(FOLD_LETTERS)}
    for x, cps in folded.items():
        expected = sorted([ord(x), ord(x.upper())] + ([0x017F] if x == "s" else []))
        assert cps == expected, (x, [hex(c) for c in cps])
        assert all(flags[cp] & LETTER for cp in cps)
    assert sorted(cp for cp in range(LIMIT) if flags[cp] & SPACE) == sorted(WHITE_SPACE)
    assert not any(flags[cp] & SPACE and flags[cp] & (LETTER | NUMBER) for cp in range(LIMIT))

    hf_only = []
    if args.hf_unicode:
        extra = hf_extras()
        for cp, f in extra.items():
            flags[cp] = f
        hf_only = ranges(extra)

    blocks = {}
    stage1 = bytearray()
    for start in range(0, LIMIT, BLOCK):
        block = bytes(flags[start:start + BLOCK])
        stage1.append(blocks.setdefault(block, len(blocks)))
    assert len(blocks) <= 256, len(blocks)
    stage2 = b"".join(blocks)  # dicts keep insertion order: block i at offset i * BLOCK
    zero_block = blocks[bytes(BLOCK)]
    payload = bytes(stage1) + stage2
    assert stage1[0] == 0  # the ASCII flags are stage2[0...127]

    # Check the two-stage lookup round-trips.
    for cp in range(0, LIMIT, 1):
        assert payload[len(stage1) + stage1[cp >> BLOCK_SHIFT] * BLOCK + (cp & (BLOCK - 1))] == flags[cp]

    sha = hashlib.sha256(payload).hexdigest()
    encoded = base64.b64encode(payload).decode()
    lines = [encoded[i:i + 120] for i in range(0, len(encoded), 120)]
    counts = {name: sum(1 for f in flags if f & bit) for name, bit in
              (("letters", LETTER), ("numbers", NUMBER), ("spaces", SPACE))}
    version = unicodedata.unidata_version + (" + HF tokenizers' Oniguruma (Unicode 16.0) letters/numbers" if hf_only else "")
    hf_ranges = ", ".join(f"0x{a:X}...0x{b:X}" for a, b in hf_only)

    swift = f"""\
// GENERATED by Fixtures/scripts/make_unicode_classes.py{' --hf-unicode' if hf_only else ''}: do not edit.
// Unicode {version} (Python {platform.python_version()} unicodedata {unicodedata.unidata_version}).
// {counts['letters']} letters (\\p{{L}}), {counts['numbers']} numbers (\\p{{N}}), {counts['spaces']} spaces (Oniguruma's \\s).
// Two-stage table, {BLOCK}-code-point blocks: {len(stage1)} stage-1 bytes, {len(blocks)} distinct blocks ({len(stage2)} bytes).
// SHA-256 of the {len(payload)} table bytes: {sha}
// Layout and flag bits: see the script's docstring.

/// Per-code-point classes for Qwen2's pretokenizer pattern (see Qwen2Scanner).
enum UnicodeClasses {{
    static let unicodeVersion = "{unicodedata.unidata_version}"
    static let letter: UInt8 = 0x{LETTER:02X}
    static let number: UInt8 = 0x{NUMBER:02X}
    static let space: UInt8 = 0x{SPACE:02X}
    /// CR or LF (`space` is set too).
    static let newline: UInt8 = 0x{NEWLINE:02X}
    /// `flags >> foldShift`: 1...8 when the scalar caselessly matches s, t, r, e, v, m, l, d.
    static let foldShift: UInt8 = 4
    static let foldS: UInt8 = 1, foldT: UInt8 = 2, foldR: UInt8 = 3, foldE: UInt8 = 4
    static let foldV: UInt8 = 5, foldM: UInt8 = 6, foldL: UInt8 = 7, foldD: UInt8 = 8

    /// Code points where these tables follow HF tokenizers' newer Unicode, not PCRE2's (empty unless
    /// generated with --hf-unicode).
    static let hfOnlyRanges: [ClosedRange<UInt32>] = [{hf_ranges}]

    static let blockShift = {BLOCK_SHIFT}
    static let stage1Count = {len(stage1)}
    static let stage2Count = {len(stage2)}
    static let zeroBlock: UInt8 = {zero_block}
    /// FNV-1a 64 of the decoded stage 1 + stage 2 bytes.
    static let checksum: UInt64 = 0x{fnv1a64(payload):016X}

    /// Offsets in `table`: 256 byte flags (ASCII flags, 0 for bytes >= 0x80), then stage 1 padded to
    /// 0x200000 >> blockShift entries (any 4-byte sequence, even an invalid one, stays in bounds), then stage 2.
    static let stage1Offset = 256
    static let stage2Offset = 256 + (0x200000 >> {BLOCK_SHIFT})

    /// The decoded table, built at first use and never freed.
    nonisolated(unsafe) static let table: UnsafePointer<UInt8> = decode()

    /// The flags of any scalar value below 0x200000.
    @inline(__always)
    static func flags(_ scalar: UInt32, _ table: UnsafePointer<UInt8>) -> UInt8 {{
        let block = Int(table[stage1Offset &+ Int(scalar >> UInt32(blockShift))])
        return table[stage2Offset &+ block << blockShift &+ Int(scalar & UInt32((1 << blockShift) - 1))]
    }}

    static func decode() -> UnsafePointer<UInt8> {{
        let total = stage2Offset + stage2Count
        let out = UnsafeMutablePointer<UInt8>.allocate(capacity: total)
        out.initialize(repeating: 0, count: stage2Offset)
        // Base64 of stage 1 (stage1Count bytes) followed by stage 2, newlines ignored.
        var value: UInt32 = 0, bits = 0, o = stage1Offset
        var skip = 0
        let source = encoded
        for i in 0..<source.utf8CodeUnitCount {{
            let c = source.utf8Start[i]
            let d: UInt32
            switch c {{
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): d = UInt32(c &- UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): d = UInt32(c &- UInt8(ascii: "a")) &+ 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c &- UInt8(ascii: "0")) &+ 52
            case UInt8(ascii: "+"): d = 62
            case UInt8(ascii: "/"): d = 63
            default: continue
            }}
            value = value << 6 | d
            bits += 6
            if bits >= 8 {{
                bits -= 8
                if o == stage1Offset + stage1Count {{ o = stage2Offset; skip += 1 }}
                precondition(o < total, "UnicodeClasses: table too long")
                out[o] = UInt8(truncatingIfNeeded: value >> UInt32(bits))
                o += 1
            }}
        }}
        precondition(o == total && skip == 1, "UnicodeClasses: table truncated")
        for i in stage1Count..<(0x200000 >> blockShift) {{ out[stage1Offset + i] = zeroBlock }}
        // Byte flags: ASCII is block 0 of stage 2; bytes >= 0x80 stay 0.
        for b in 0..<128 {{ out[b] = out[stage2Offset + b] }}
        return UnsafePointer(out)
    }}

    static let encoded: StaticString = \"\"\"
{chr(10).join('    ' + line for line in lines)}
    \"\"\"
}}
"""
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(swift)
    print(f"wrote {os.path.relpath(args.out, ROOT)}: {len(swift)} bytes, {len(blocks)} blocks, sha256 {sha}"
          + (f", {len(hf_only)} HF-only ranges" if hf_only else ""))


if __name__ == "__main__":
    main()
