#!/usr/bin/env python3
"""Generate qwenkit's NFC tables (and the NFC golden file) from HF tokenizers' effective Unicode data.

Qwen2's tokenizer.json has `"normalizer": {"type": "NFC"}`. Hugging Face `tokenizers` implements it
with the Rust crate `unicode-normalization-alignments`, whose tables are Unicode 9.0.0: it knows no
combining class or decomposition added in Unicode 10.0 or later (e.g. U+1DF6 COMBINING KAVYKA ABOVE
RIGHT (10.0) has ccc 0 there, U+11938 DIVES AKURU VOWEL SIGN O (13.0) does not decompose). Since
the tokenizer must reproduce HF's ids, our tables are HF's behaviour, not the newest Unicode:

  1. start from Python's `unicodedata` (Unicode 14.0.0 on Python 3.11): canonical combining class
     and canonical decomposition mapping of every code point;
  2. probe HF's normalizer for every code point and drop what HF does not know: a non-zero ccc that
     HF never reorders, a decomposition that HF's NFD leaves alone (and check that everything kept
     agrees with HF exactly);
  3. derive NFC from that data: full canonical decompositions, primary composites (two-scalar
     mappings that HF's NFC recomposes; the rest are Full_Composition_Exclusion), NFC_Quick_Check
     (No = excluded, Maybe = second scalar of some composite, Hangul V and T jamo included);
  4. run a reference NFC in Python over those tables against HF on exhaustive and random inputs;
  5. write Sources/QwenTokenizer/Normalization/NFCTables.swift (base64 tables, see below).

Deterministic: the output depends only on the Python and tokenizers versions (random inputs use a
fixed seed). Needs `pip install tokenizers` (0.23.3 was used) and the zstd CLI (Qwen2's tokenizer.json
is read from Fixtures/tokenizers/qwen2/tokenizer.json.zst; its normalizer is the reference). From the
repository root:

    python3 Fixtures/scripts/make_nfc_tables.py            # writes NFCTables.swift
    python3 Fixtures/scripts/make_nfc_tables.py --golden   # also writes Fixtures/nfc-golden/nfc.jsonl

Table layout (all little-endian, decoded once at first use by NFCNormalizer.swift):
  qcIndex   [UInt8]   cp >> 6 -> block of qcBits (cp >= 64 * qcIndex.count: no attention)
  qcBits    [UInt64]  bit (cp & 63): 1 when ccc != 0 or NFC_QC != Yes ("needs attention")
  recIndex  [UInt8]   cp >> 5 -> block of recBlocks (cp past the end: record 0)
  recBlocks [UInt16]  32 record numbers per block
  records   [UInt32]  ccc | maybe << 8 | no << 9 | decompositionLength << 10 | decompositionOffset << 13
  decomps   [UInt32]  full canonical decompositions, each scalar packed as cp | maybe << 21 | ccc << 24
  comps     [UInt32]  primary composites as (first, second, composite) triples, Hangul excluded
"""
import argparse
import base64
import hashlib
import json
import os
import random
import struct
import subprocess
import sys
import unicodedata as ud

from tokenizers import Tokenizer, normalizers
from tokenizers import __version__ as TOKENIZERS_VERSION

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SWIFT_OUT = os.path.join(ROOT, "Sources", "QwenTokenizer", "Normalization", "NFCTables.swift")
GOLDEN_OUT = os.path.join(ROOT, "Fixtures", "nfc-golden", "nfc.jsonl")
QWEN2_TOKENIZER = os.path.join(ROOT, "Fixtures", "tokenizers", "qwen2", "tokenizer.json.zst")
EFFECTIVE_UNICODE = "9.0.0"


def qwen2_normalizer():
    """The normalizer of Qwen2's own tokenizer.json (decompressed with the zstd CLI)."""
    text = subprocess.run(["zstd", "-dc", QWEN2_TOKENIZER], check=True, capture_output=True).stdout.decode()
    assert json.loads(text)["normalizer"] == {"type": "NFC"}
    return Tokenizer.from_str(text).normalizer


hf_nfc = qwen2_normalizer().normalize_str       # the reference: tok.normalizer.normalize_str
hf_nfd = normalizers.NFD().normalize_str         # same crate and tables, for decomposition probes

S_BASE, L_BASE, V_BASE, T_BASE = 0xAC00, 0x1100, 0x1161, 0x11A7
L_COUNT, V_COUNT, T_COUNT = 19, 21, 28
N_COUNT = V_COUNT * T_COUNT
S_COUNT = L_COUNT * N_COUNT

QC_SHIFT = 6     # qcIndex: one UInt64 bitmap per 64 code points (matches UTF-8's 6-bit trailing bytes)
REC_SHIFT = 5    # recIndex: 32 records per block
LIMIT = 0x30000  # nothing at or above U+30000 has a ccc, a decomposition or a composition


def all_scalars():
    for cp in range(0x110000):
        if not 0xD800 <= cp <= 0xDFFF:
            yield cp


def is_hangul_syllable(cp):
    return S_BASE <= cp < S_BASE + S_COUNT


# ---------------------------------------------------------------------------------------------
# 1-3: effective data
# ---------------------------------------------------------------------------------------------

def effective_data():
    ccc, raw, dropped_ccc, dropped_dec = {}, {}, [], []
    for cp in all_scalars():
        c = chr(cp)
        v = ud.combining(c)
        d = ud.decomposition(c)
        has_dec = bool(d) and not d.startswith("<")
        if v:
            if has_dec:
                ccc[cp] = v  # checked below through HF's NFD of the whole character
            else:
                # A non-zero ccc reorders against U+0334 (ccc 1) after it or U+0301 (ccc 230) before it.
                if hf_nfc(c + "\u0334") != c + "\u0334" or hf_nfc("\u0301" + c) != "\u0301" + c:
                    ccc[cp] = v
                else:
                    dropped_ccc.append(cp)
        elif not has_dec:
            # HF must not know a ccc that Python does not.
            assert hf_nfc(c + "\u0334") == c + "\u0334" and hf_nfc("\u0301" + c) == "\u0301" + c, hex(cp)
        if has_dec:
            if hf_nfd(c) == c:
                dropped_dec.append(cp)
            else:
                raw[cp] = [int(x, 16) for x in d.split()]
    return ccc, raw, dropped_ccc, dropped_dec


def full_decomposition(cp, raw):
    if cp not in raw:
        return [cp]
    out = []
    for x in raw[cp]:
        out.extend(full_decomposition(x, raw))
    return out


def derive(ccc, raw):
    full = {cp: full_decomposition(cp, raw) for cp in raw}
    for cp, f in full.items():
        assert hf_nfd(chr(cp)) == "".join(map(chr, f)), hex(cp)
        assert ud.normalize("NFD", chr(cp)) == "".join(map(chr, f)), hex(cp)
    # Primary composites: two-scalar mappings that HF recomposes. Everything else with a mapping that
    # NFC changes is Full_Composition_Exclusion (singletons, non-starter decompositions, the list).
    comps = {}
    qc_no = set()
    for cp, r in raw.items():
        if hf_nfc(chr(cp)) != chr(cp):
            qc_no.add(cp)
            assert ud.normalize("NFC", chr(cp)) != chr(cp), hex(cp)
            continue
        assert len(r) == 2 and ccc.get(r[0], 0) == 0, hex(cp)
        comps[(r[0], r[1])] = cp
    maybe = {b for (_, b) in comps}
    maybe.update(range(V_BASE, V_BASE + V_COUNT))
    maybe.update(range(T_BASE + 1, T_BASE + T_COUNT))
    return full, comps, qc_no, maybe


# ---------------------------------------------------------------------------------------------
# 4: reference NFC over the derived tables (same algorithm as NFCNormalizer.swift's slow path)
# ---------------------------------------------------------------------------------------------

class Reference:
    def __init__(self, ccc, full, comps):
        self.ccc, self.full, self.comps = ccc, full, comps

    def decompose(self, cp):
        if is_hangul_syllable(cp):
            s = cp - S_BASE
            out = [L_BASE + s // N_COUNT, V_BASE + (s % N_COUNT) // T_COUNT]
            if s % T_COUNT:
                out.append(T_BASE + s % T_COUNT)
            return out
        return self.full.get(cp, [cp])

    def compose(self, a, b):
        if L_BASE <= a < L_BASE + L_COUNT and V_BASE <= b < V_BASE + V_COUNT:
            return S_BASE + ((a - L_BASE) * V_COUNT + (b - V_BASE)) * T_COUNT
        if is_hangul_syllable(a) and (a - S_BASE) % T_COUNT == 0 and T_BASE < b < T_BASE + T_COUNT:
            return a + (b - T_BASE)
        return self.comps.get((a, b))

    def nfc(self, s):
        buf = []
        for ch in s:
            buf.extend(self.decompose(ord(ch)))
        # canonical ordering: stable sort of each run of non-starters by ccc
        i = 0
        while i < len(buf):
            if self.ccc.get(buf[i], 0) == 0:
                i += 1
                continue
            j = i
            while j < len(buf) and self.ccc.get(buf[j], 0) != 0:
                j += 1
            buf[i:j] = sorted(buf[i:j], key=lambda x: self.ccc.get(x, 0))
            i = j
        out, starter, last = [], -1, 0
        for cp in buf:
            cc = self.ccc.get(cp, 0)
            if starter >= 0 and (len(out) == starter + 1 or (last != 0 and last < cc)):
                c = self.compose(out[starter], cp)
                if c is not None:
                    out[starter] = c
                    continue
            if cc == 0:
                starter = len(out)
            last = cc
            out.append(cp)
        return "".join(map(chr, out))


# ---------------------------------------------------------------------------------------------
# tables
# ---------------------------------------------------------------------------------------------

def build_tables(ccc, full, comps, qc_no, maybe):
    attention = set(ccc) | qc_no | maybe
    # A stable boundary (ccc 0, QC Yes) must not start, after decomposition, with anything that
    # could interact with what precedes it.
    for cp, f in full.items():
        if cp not in attention:
            assert ccc.get(f[0], 0) == 0 and f[0] not in maybe, hex(cp)
        # Scratch bounds used by NFCNormalizer.swift: a span of n bytes decomposes into at most 1.5 n
        # scalars and 3 n bytes (Hangul too: 3 jamo of 3 bytes for 3 bytes), and composing never
        # lengthens the UTF-8 (below), so NFC of the span has at most 3 n bytes.
        utf8 = lambda cps: len("".join(map(chr, cps)).encode())
        assert len(f) <= 4
        assert len(f) <= 1.5 * utf8([cp]), hex(cp)
        assert utf8(f) <= 3 * utf8([cp]), hex(cp)
    for (a, b), c in comps.items():
        assert len(chr(c).encode()) <= len(chr(a).encode()) + len(chr(b).encode()), hex(c)
    assert all(c < LIMIT for c in attention | set(full) | set(comps.values()))
    assert not any(0x4000 <= c < 0xA000 for c in attention)  # UTF-8 lead bytes E4..E9: no lookup

    # quick-check bitmap
    nqc = (max(attention) >> QC_SHIFT) + 1
    blocks, qc_index = {0: 0}, []
    qc_bits = [0]
    for b in range(nqc):
        word = 0
        for k in range(1 << QC_SHIFT):
            if (b << QC_SHIFT) + k in attention:
                word |= 1 << k
        if word not in blocks:
            blocks[word] = len(qc_bits)
            qc_bits.append(word)
        qc_index.append(blocks[word])
    assert len(qc_bits) <= 256

    # records: 0 = plain; then one per distinct (ccc, maybe, no, decomposition)
    def pack_scalar(c):
        return c | ((1 << 21) if c in maybe else 0) | (ccc.get(c, 0) << 24)

    decomps, dec_offset = [], {}
    records, rec_of = [0], {}
    cp_record = {}
    for cp in sorted(set(ccc) | set(full) | maybe | qc_no):
        f = tuple(full.get(cp, ()))
        if f and f not in dec_offset:
            dec_offset[f] = len(decomps)
            decomps.extend(pack_scalar(x) for x in f)
        off = dec_offset.get(f, 0)
        rec = ccc.get(cp, 0) | ((cp in maybe) << 8) | ((cp in qc_no) << 9) | (len(f) << 10) | (off << 13)
        assert off < (1 << 19)
        if rec not in rec_of:
            rec_of[rec] = len(records)
            records.append(rec)
        cp_record[cp] = rec_of[rec]
    assert len(records) < 65536
    nrec = (max(cp_record) >> REC_SHIFT) + 1
    rblocks, rec_index, rec_blocks = {(0,) * (1 << REC_SHIFT): 0}, [], [0] * (1 << REC_SHIFT)
    for b in range(nrec):
        key = tuple(cp_record.get((b << REC_SHIFT) + k, 0) for k in range(1 << REC_SHIFT))
        if key not in rblocks:
            rblocks[key] = len(rec_blocks) >> REC_SHIFT
            rec_blocks.extend(key)
        rec_index.append(rblocks[key])
    assert len(rblocks) <= 256

    comp_list = []
    for (a, b), c in sorted(comps.items()):
        comp_list.extend((a, b, c))
    return dict(qcIndex=(qc_index, "B"), qcBits=(qc_bits, "Q"), recIndex=(rec_index, "B"),
                recBlocks=(rec_blocks, "H"), records=(records, "I"), decomps=(decomps, "I"),
                comps=(comp_list, "I"))


def swift_source(tables, stats):
    lines = [
        "// GENERATED by Fixtures/scripts/make_nfc_tables.py: do not edit.",
        f"// Unicode {EFFECTIVE_UNICODE}, the data HF tokenizers {TOKENIZERS_VERSION} effectively normalizes with",
        f"// (Python {sys.version.split()[0]} unicodedata {ud.unidata_version} minus what HF does not know:",
        f"// {stats['dropped_ccc']} combining classes and {stats['dropped_dec']} decomposition(s) added after Unicode 9.0).",
        f"// {stats['comps']} primary composites, {stats['decomps']} decomposable scalars, {stats['ccc']} non-starters.",
        "// Layout and decoding: see the script's docstring and NFCNormalizer.swift.",
        "",
        "enum NFCTableData {",
        f'    static let unicodeVersion = "{EFFECTIVE_UNICODE}"',
    ]
    for name, (values, fmt) in tables.items():
        data = struct.pack("<%d%s" % (len(values), fmt), *values)
        text = base64.b64encode(data).decode()
        lines.append(f"    /// {len(values)} x {dict(B='UInt8', H='UInt16', I='UInt32', Q='UInt64')[fmt]}, base64")
        lines.append(f"    static let {name}Count = {len(values)}")
        lines.append(f'    static let {name}: StaticString = """')
        for k in range(0, len(text), 116):
            lines.append("    " + text[k:k + 116])
        lines.append('    """')
    lines.append("}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# golden inputs (the expected output is always HF's)
# ---------------------------------------------------------------------------------------------

SCRIPTS_NFC = [
    "The quick brown fox jumps over the lazy dog. 0123456789 !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
    "def f(x: int) -> int:\n    return x * 2  # comment\n\tif (a && b) { print(\"é\"); }",
    "自然语言处理是人工智能的一个分支。大型语言模型，例如通义千问，可以生成文本。",
    "日本語のテキスト：ひらがな、カタカナ、漢字。ガギグゲゴ パピプペポ ｶﾞｷﾞ",
    "한국어 텍스트입니다. 안녕하세요, 세계! 훈민정음 똠방각하",
    "Русский текст: съешь же ещё этих мягких французских булок, да выпей чаю. Ёё Йй",
    "Ελληνικά: Ξεσκεπάζω την ψυχοφθόρα βδελυγμία. ά έ ή ί ό ύ ώ ΐ ΰ ᾅ ᾷ",
    "العربية: نص عربي مع تشكيل: بِسْمِ اللَّهِ الرَّحْمَٰنِ الرَّحِيمِ",
    "עברית: שָׁלוֹם עוֹלָם, טקסט בעברית",
    "हिन्दी पाठ: नमस्ते दुनिया। क़ ख़ ग़ ज़ ड़ ढ़ फ़ य़",
    "ภาษาไทย: สวัสดีชาวโลก กรุงเทพมหานคร",
    "Tiếng Việt: Tôi có thể ăn thủy tinh mà không hại gì. Ầ ầ Ẩ ẩ Ẫ ẫ Ậ ậ",
    "Français: Où est le garçon? À bientôt, Zoë! Ça coûte 5 €. Ÿ œ Æ",
    "Deutsch: Übergrößenträger, Fußgängerübergänge. ẞ",
    "Emoji: 😀👍🏽👨‍👩‍👧‍👦 🏳️‍🌈 ❤️ #️⃣ 🇯🇵 ☺︎",
    "Math: ∀x∈ℝ, ∃y: x² + y² = z²; ∫₀^∞ e^{-x} dx = 1; ≤ ≥ ≠ ≈ ∞ ∑ ∏ √",
    "Tamil: தமிழ் மொழி. Bengali: বাংলা ভাষা। Kannada: ಕನ್ನಡ. Malayalam: മലയാളം",
    "Georgian: ქართული ენა. Armenian: Հայերեն լեզու. Ethiopic: ኢትዮጵያ",
    "Mixed 中文 English 混合 text with 代码 `let x = 1` and URLs https://example.com/路径?q=值",
    "Full-width: ＡＢＣ１２３！ Compatibility (unchanged by NFC): ﬁ ﬂ ℌ ① ㍿ ¼ ™ Å",
    "CJK Ext B: 𠀀𠀁𠮷𡈽𪚥 and astral 𝐀𝐁𝐂 𝔸𝔹 𝟘𝟙",
]


def golden_inputs(ccc, raw, full, comps, qc_no):
    rng = random.Random(20240917)
    lines = []
    decomposable = sorted(raw)
    # every code point with a canonical decomposition (HF's and Python's), composed and decomposed
    py_decomposable = sorted(cp for cp in all_scalars()
                             if ud.decomposition(chr(cp)) and not ud.decomposition(chr(cp)).startswith("<"))
    for k in range(0, len(py_decomposable), 8):
        group = py_decomposable[k:k + 8]
        lines.append(" ".join(chr(c) for c in group))
        lines.append(" ".join(ud.normalize("NFD", chr(c)) for c in group))
    # every Hangul syllable, precomposed and as jamo
    syll = list(range(S_BASE, S_BASE + S_COUNT))
    for k in range(0, len(syll), 64):
        group = syll[k:k + 64]
        lines.append("".join(chr(c) for c in group))
        lines.append("".join(ud.normalize("NFD", chr(c)) for c in group))
    # Hangul edge cases: L+V, LV+T, invalid T (11A7), archaic jamo, fillers, LVT+T, marks in between
    for l in range(L_BASE, L_BASE + L_COUNT):
        lines.append("".join(chr(l) + chr(v) for v in range(V_BASE, V_BASE + V_COUNT)))
    lines.append("".join("\uAC00" + chr(t) for t in range(T_BASE, T_BASE + T_COUNT + 1)))
    lines.append("\u1100\u1161\u11A7 \u1100\u1161\u11C3 \u115F\u1161 \u1100\u1160 \u1100\u1176 \uAC01\u11A8 "
                 "\u1100\u0301\u1161 \u1100\u1161\u0301\u11A8 \u1100\u1100\u1161\u1161\u11A8\u11A8 \uD7A3\u11A8 "
                 "\u1112\u1175\u11C2 \u3131\u314F \uA960\u1161 \u1100\uD7B0")
    # combining marks after several bases (every mark Python knows, including those HF does not)
    marks = sorted(cp for cp in all_scalars() if ud.combining(chr(cp)))
    bases = ["a", "e", "o", "A", "u", "n", "\u03b1", "\u03c9", "\u0438", "\u05d0", "\u0627", "\u0915",
             "\u0e01", "\u1100", "\u304b", "\u4e00", "\u00e9", "\u0131", " ", "\u0300"]
    for k in range(0, len(marks), 6):
        group = marks[k:k + 6]
        for b in rng.sample(bases, 4):
            lines.append(" ".join(b + chr(m) for m in group))
    # second-position composition characters (QC=Maybe) after bases and each of their firsts
    maybe_marks = sorted({b for (_, b) in comps})
    for m in maybe_marks:
        firsts = sorted(a for (a, b) in comps if b == m)
        lines.append(" ".join(chr(a) + chr(m) for a in firsts[:40]) + " x" + chr(m) + " " + chr(m))
    # canonical reordering of stacked marks
    common_marks = [0x0300, 0x0301, 0x0302, 0x0303, 0x0304, 0x0306, 0x0307, 0x0308, 0x030A, 0x030B, 0x030C,
                    0x0323, 0x0324, 0x0325, 0x0327, 0x0328, 0x0331, 0x0334, 0x0335, 0x0338, 0x0345, 0x031B,
                    0x05B0, 0x05B4, 0x05BC, 0x05C1, 0x064B, 0x0650, 0x0651, 0x0654, 0x0670, 0x093C, 0x094D,
                    0x0E38, 0x0E48, 0x0F71, 0x0F72, 0x0F74, 0x0F80, 0x3099, 0x309A, 0x1DF6, 0x08D3, 0x1DCE]
    for _ in range(600):
        base = rng.choice(["a", "e", "o", "u", "A", "E", "O", "i", "n", "c", "s", "z", "\u03b1", "\u03b7",
                           "\u05e9", "\u0627", "\u0915", "\u0e01", "\u0f40", "\u304b", "\u30cf", "\u00e5", ""])
        stack = "".join(chr(rng.choice(common_marks)) for _ in range(rng.randint(2, 6)))
        lines.append(base + stack + rng.choice(["", " ", "x", "\u4e2d", "\u0301"]))
    # exclusions, singletons, non-starter decompositions, astral
    excluded = sorted(qc_no)
    for k in range(0, len(excluded), 8):
        group = excluded[k:k + 8]
        lines.append(" ".join(chr(c) for c in group))
        lines.append(" ".join("a" + chr(c) + "\u0323" for c in group))
    specials = ["\u212B", "\u2126", "\u0958", "\u0344", "\u0F73", "\u0F75", "\u0F81", "\u212BA\u030A",
                "A\u030A\u2126", "\u0915\u093C", "a\u0344b", "\u0F40\u0F73\u0F75\u0F81",
                "\u0F71\u0F72", "\u0F72\u0F71", "\u0F40\u0F72\u0F71\u0F74\u0F80",
                "\U0001D15E\U0001D15F\U0001D160\U0001D161\U0001D162\U0001D163\U0001D164",
                "\U0001D1BB\U0001D1BC\U0001D1BD\U0001D1BE\U0001D1BF\U0001D1C0",
                "\U0001D157\U0001D165 \U0001D158\U0001D165\U0001D16E \U0001D158\U0001D16E\U0001D165",
                "\U0001109A \U00011099\U000110BA \U0001109C \U0001109B\U000110BA \U000110AB \U000110A5\U000110BA",
                "\U0001112E \U00011131\U00011127 \U0001134B \U00011347\U0001133E \U0001134C \U00011347\U00011357",
                "\U000114BB \U000114B9\U000114BA \U000115BA \U000115B8\U000115AF \U00011938 \U00011935\U00011930",
                "\U0002F800\U0002F801\U0002FA1D \uF900\uFA0D\uFAD9 \u1E9B\u0323 \u01D5 U\u0308\u0304",
                "\u0041\u0301\u0301 \u0041\u0327\u0301 \u0041\u0301\u0327 \u1E0A\u0323 \u1E0C\u0307 "
                "\u0044\u0307\u0323 \u0044\u0323\u0307 \u00C7\u0301 \u0045\u0304\u0300 \u0045\u0300\u0304",
                "\u0301 \u0301a \u0301\u0300 \u0323\u0301e \u0300", "\u0625 \u0627\u0655 \u0623 \u0627\u0654",
                "\u09CB \u09C7\u09BE \u0B48 \u0B47\u0B56 \u0BCA \u0BC6\u0BBE \u0CCA \u0CC6\u0CC2 \u0CCB \u0CC6\u0CC2\u0CD5",
                "\u0DDA \u0DD9\u0DCA \u0DDD \u0DD9\u0DCF\u0DCA \u1B06 \u1B05\u1B35 \u304C \u304B\u3099 \u30DD \u30DB\u309A",
                "\u00e9\u0323 e\u0323\u0301 e\u0301\u0323 \u1EB9\u0301 \u1EC7 e\u0302\u0323 \u1EC7\u0301",
                "\u2000\u2001\u2002 \u1FEE \u1FED\u0301 \u0385 \u00A8\u0301 \u1FFD \u00B4 \u0387 \u00B7 \u037E ;",
                "\u2329\u232A \u3008\u3009 \u0340\u0341\u0343 \u0374 \u02B9 \u1F71 \u03AC",
                "\u1DF5\u0334 \u1DF6\u0334 \u0301\u1DF6 a\u1DF6\u0301 a\u08D3\u0323 \u08D4\u0334 \U0001E94A\u0301",
                "", " ", "a", "\u00e9", "e\u0301", "\n\u0301\t\u0300\r\n",
                ]
    lines.extend(specials)
    # already-NFC text in many scripts (also as NFD, and shuffled fragments)
    for s in SCRIPTS_NFC:
        lines.append(s)
        lines.append(ud.normalize("NFD", s))
    # random mixes
    pool_ascii = [chr(c) for c in range(0x20, 0x7F)] + ["\n", "\t"]
    pool_dec = [chr(c) for c in decomposable]
    pool_marks = [chr(c) for c in marks]
    pool_jamo = [chr(c) for c in list(range(0x1100, 0x1113)) + list(range(0x1161, 0x1176)) +
                 list(range(0x11A7, 0x11C3))]
    pool_misc = [chr(c) for c in list(range(0x4E00, 0x4E40)) + list(range(0x3040, 0x30FF)) +
                 list(range(0xAC00, 0xAC40)) + list(range(0x0600, 0x06FF)) + list(range(0x0900, 0x097F)) +
                 [0x1F600, 0x1F44D, 0x1F3FD, 0x200D, 0xFE0F, 0x20000, 0x1D11E]]
    pools = [(pool_ascii, 5), (pool_dec, 2), (pool_marks, 3), (pool_jamo, 1), (pool_misc, 3)]
    weighted = [p for p, w in pools for _ in range(w)]
    for _ in range(900):
        n = rng.randint(1, 40)
        lines.append("".join(rng.choice(rng.choice(weighted)) for _ in range(n)))
    return lines


def write_golden(lines, path):
    seen, out = set(), []
    for s in lines:
        if s in seen:
            continue
        seen.add(s)
        out.append(json.dumps({"in": s, "nfc": hf_nfc(s)}, ensure_ascii=False))
    data = ("\n".join(out) + "\n").encode()
    with open(path, "wb") as f:
        f.write(data)
    print(f"{path}: {len(out)} lines, {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--golden", action="store_true", help="also write Fixtures/nfc-golden/nfc.jsonl")
    ap.add_argument("--swift-out", default=SWIFT_OUT)
    ap.add_argument("--golden-out", default=GOLDEN_OUT)
    args = ap.parse_args()

    ccc, raw, dropped_ccc, dropped_dec = effective_data()
    print(f"tokenizers {TOKENIZERS_VERSION}, unicodedata {ud.unidata_version}: dropped {len(dropped_ccc)} ccc, "
          f"{len(dropped_dec)} decompositions: {' '.join('U+%04X' % c for c in dropped_dec)}")
    full, comps, qc_no, maybe = derive(ccc, raw)

    ref = Reference(ccc, full, comps)
    inputs = golden_inputs(ccc, raw, full, comps, qc_no)
    # exhaustive single scalars, each with a mark before and after
    for cp in all_scalars():
        c = chr(cp)
        for s in (c, "a" + c + "\u0334", "\u0301" + c + "\u0323"):
            assert ref.nfc(s) == hf_nfc(s), (hex(cp), s)
    bad = [s for s in inputs if ref.nfc(s) != hf_nfc(s)]
    assert not bad, bad[:5]
    print(f"reference NFC agrees with HF on {len(inputs)} golden inputs and every scalar in context")

    tables = build_tables(ccc, full, comps, qc_no, maybe)
    stats = dict(dropped_ccc=len(dropped_ccc), dropped_dec=len(dropped_dec), comps=len(comps),
                 decomps=len(full), ccc=len(ccc))
    src = swift_source(tables, stats)
    with open(args.swift_out, "w") as f:
        f.write(src)
    sizes = ", ".join(f"{k} {len(v)}" for k, (v, _) in tables.items())
    print(f"{args.swift_out}: {len(src)} bytes ({sizes})")
    if args.golden:
        write_golden(inputs, args.golden_out)


if __name__ == "__main__":
    main()
