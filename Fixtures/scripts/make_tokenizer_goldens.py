#!/usr/bin/env python3
"""Golden data for qwenkit's Qwen2 tokenizer tests, produced with Hugging Face `tokenizers`.

Reads  Fixtures/tokenizers/qwen2/tokenizer.json.zst
Writes Fixtures/tokenizer-golden/{cases,random,decode,unicode-edge}.jsonl and README.md

  cases.jsonl         hand-written cases   {"name", "text", "ids", "nfc"}
  random.jsonl        random strings       {"name": "random/N", "text", "ids", "nfc"}
  decode.jsonl        id sequences         {"name", "ids", "text", "text_skip_special"}
  unicode-edge.jsonl  characters assigned after Unicode 9.0 (informational, "strict": false)

ids  = Tokenizer.encode(text, add_special_tokens=False).ids
nfc  = the text as HF sees it after its added-token split and NFC normalizer: the added tokens
       (<|endoftext|>, <|im_start|>, <|im_end|>) are cut out first and each remaining segment is
       normalized on its own with tok.normalizer.normalize_str (so "<|im_end|>\u0338" keeps its
       U+0338, while normalize_str on the whole string would compose ">\u0338" into U+226F).
text = Tokenizer.decode(ids, skip_special_tokens=False)   (decode.jsonl)

HF's NFC tables are Unicode 9.0 (this script checks that: the normalizer agrees with Python's
unicodedata NFC on every character assigned up to 9.0 and disagrees on later ones), so the strict
files (cases, random) only contain code points whose Unicode age is <= 9.0. Ages come from Perl's
unicore/To/Age.pl (a DerivedAge table that ships with Debian's perl); without it the script falls
back to Unicode 3.2 assignments (unicodedata.ucd_3_2_0), which is a subset.

Deterministic: fixed seeds, no hash-order dependence. Usage (from the repository root):
    python3 Fixtures/scripts/make_tokenizer_goldens.py
"""
import glob
import hashlib
import importlib.metadata
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import unicodedata as ud

from tokenizers import Tokenizer
from byte_level import bytes_to_unicode

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
TOKJSON_ZST = os.path.join(ROOT, "Fixtures", "tokenizers", "qwen2", "tokenizer.json.zst")
OUT = os.path.join(ROOT, "Fixtures", "tokenizer-golden")
SEED = 20240611
N_RANDOM = 3200
N_DECODE_RANDOM = 520
MAX_TOTAL_BYTES = 5 * 1024 * 1024

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
SPECIAL_IDS = [151643, 151644, 151645]
SPECIAL_RE = re.compile("(" + "|".join(re.escape(s) for s in SPECIALS) + ")")


# ----------------------------------------------------------------------------------------------
# Loading
# ----------------------------------------------------------------------------------------------

def read_zst(path):
    try:
        import zstandard  # noqa: F401

        with open(path, "rb") as f:
            return zstandard.ZstdDecompressor().stream_reader(f).read()
    except ImportError:
        return subprocess.run(["zstd", "-dc", path], check=True, capture_output=True).stdout


def load_tokenizer():
    raw = read_zst(TOKJSON_ZST)
    return Tokenizer.from_str(raw.decode("utf-8")), hashlib.sha256(raw).hexdigest()


# ----------------------------------------------------------------------------------------------
# Unicode age
# ----------------------------------------------------------------------------------------------

def load_ages():
    """Return (list of (lo, hi, age_float)), source description."""
    cands = sorted(glob.glob("/usr/share/perl/*/unicore/To/Age.pl")) + sorted(
        glob.glob("/usr/lib/*/perl-base/unicore/To/Age.pl"))
    for path in cands:
        ranges = []
        body = False
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n")
                if line.startswith("return <<"):
                    body = True
                    continue
                if not body or line == "END":
                    continue
                parts = line.split("\t")
                if len(parts) != 3:
                    continue
                lo = int(parts[0], 16)
                hi = int(parts[1], 16) if parts[1] else lo
                ranges.append((lo, hi, float(parts[2])))
        if ranges:
            return ranges, path
    return None, "unicodedata.ucd_3_2_0 (fallback)"


AGE_RANGES, AGE_SOURCE = load_ages()
_age_cache = {}


def age(cp):
    """Unicode version in which cp was assigned (float), or None if unassigned."""
    if cp in _age_cache:
        return _age_cache[cp]
    a = None
    if AGE_RANGES is not None:
        lo_i, hi_i = 0, len(AGE_RANGES) - 1
        while lo_i <= hi_i:
            mid = (lo_i + hi_i) // 2
            lo, hi, v = AGE_RANGES[mid]
            if cp < lo:
                hi_i = mid - 1
            elif cp > hi:
                lo_i = mid + 1
            else:
                a = v
                break
    else:
        if ud.ucd_3_2_0.category(chr(cp)) != "Cn" or (cp & 0xFFFE) == 0xFFFE or 0xFDD0 <= cp <= 0xFDEF:
            a = 3.2
    _age_cache[cp] = a
    return a


def is_strict_cp(cp):
    """Assigned (incl. noncharacters, private use) no later than Unicode 9.0, and not a surrogate."""
    if 0xD800 <= cp <= 0xDFFF:
        return False
    a = age(cp)
    return a is not None and a <= 9.0


def strict_text(s):
    return all(is_strict_cp(ord(c)) for c in s)


# ----------------------------------------------------------------------------------------------
# Encoding helpers
# ----------------------------------------------------------------------------------------------

class Golden:
    def __init__(self, tok):
        self.tok = tok
        self.norm = tok.normalizer
        self.roundtrip_failures = []      # (file, name, text, nfc, decoded)
        self.python_nfc_diffs = []        # (file, name)  HF NFC != Python NFC (per segment)
        self.whole_string_nfc_diffs = []  # (file, name)  segment-wise NFC != normalize_str(whole)

    def nfc(self, text):
        parts = SPECIAL_RE.split(text)
        out = []
        for i, p in enumerate(parts):
            out.append(p if i % 2 == 1 else self.norm.normalize_str(p))
        return "".join(out)

    def python_nfc(self, text):
        parts = SPECIAL_RE.split(text)
        return "".join(p if i % 2 else ud.normalize("NFC", p) for i, p in enumerate(parts))

    def case(self, file, name, text, **extra):
        ids = self.tok.encode(text, add_special_tokens=False).ids
        nfc = self.nfc(text)
        dec = self.tok.decode(ids, skip_special_tokens=False)
        if dec != nfc:
            self.roundtrip_failures.append((file, name, text, nfc, dec))
        if nfc != self.python_nfc(text):
            self.python_nfc_diffs.append((file, name))
        if nfc != self.norm.normalize_str(text):
            self.whole_string_nfc_diffs.append((file, name))
        rec = {"name": name, "text": text, "ids": ids, "nfc": nfc}
        rec.update(extra)
        return rec


# Characters written as \uXXXX escapes in the JSONL output so that the files are safe to split on
# "\n" with any line-splitting API and stay readable: all of category C* and Z* except U+0020.
def _needs_escape(c):
    cat = ud.category(c)
    return (cat[0] in "CZ" and c != " ") or not is_strict_cp(ord(c))


def _esc(c):
    cp = ord(c)
    if cp < 0x10000:
        return "\\u%04x" % cp
    cp -= 0x10000
    return "\\u%04x\\u%04x" % (0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF))


def dump_line(obj):
    s = json.dumps(obj, ensure_ascii=False, separators=(", ", ": "))
    out = []
    for c in s:
        out.append(_esc(c) if ord(c) >= 0x7F and _needs_escape(c) else c)
    s = "".join(out)
    assert json.loads(s) == obj
    assert "\n" not in s and "\r" not in s
    return s


def write_jsonl(path, records):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for r in records:
            f.write(dump_line(r))
            f.write("\n")


# ----------------------------------------------------------------------------------------------
# Hand-written cases
# ----------------------------------------------------------------------------------------------

ENGLISH = [
    ("hello world", "Hello, world!"),
    ("pangram", "The quick brown fox jumps over the lazy dog."),
    ("paragraph", "It was the best of times, it was the worst of times, it was the age of wisdom, it was "
                  "the age of foolishness, it was the epoch of belief, it was the epoch of incredulity."),
    ("multi-line", "First line.\nSecond line, with a comma.\n\nA new paragraph after a blank line.\n"),
    ("quotes and dashes", "\"Don't,\" she said \u2014 quietly \u2013 \u201cit's fine\u201d, isn\u2019t it?"),
    ("abbreviations", "Dr. Smith met Mr. O'Neil at 5 p.m. on Jan. 3rd, e.g. near St. Paul's, i.e. downtown."),
    ("mixed case", "iPhone macOS JavaScript NASA eBay McDonald's LaTeX XMLHttpRequest"),
    ("urls and emails", "See https://example.com/path?q=1&r=two#frag or mail john.doe+tag@example.org."),
    ("numbers in prose", "In 2023, 1,234 people paid $56.78 each (about 12.5% more than in 1999)."),
    ("all caps", "WARNING: DO NOT OPERATE HEAVY MACHINERY WHILE READING THIS SENTENCE!!!"),
    ("hyphenation", "state-of-the-art, well-known, co-operate, re-enter, twenty-one, x-ray"),
    ("ellipsis and punctuation", "Wait... what?! No\u2026 really?? (yes) [maybe] {perhaps} <no>"),
    ("markdown", "# Title\n\n- item one\n- item **two**\n\n> quoted `code` and _emphasis_\n\n1. first\n2. second"),
    ("legal", "THE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED."),
    ("dialog", "\"Where are you going?\" asked Tom.\n\"Out,\" said Mary. \"I'll be back by ten.\"\n"),
    ("latin-1 words", "na\u00efve caf\u00e9 r\u00e9sum\u00e9 fa\u00e7ade co\u00f6perate se\u00f1or \u00fcber Stra\u00dfe"),
    ("european", "Fran\u00e7ais: \u00e7a co\u00fbte 5\u202f\u20ac. Deutsch: Gr\u00fc\u00dfe aus K\u00f6ln. "
                 "Polski: Za\u017c\u00f3\u0142\u0107 g\u0119\u015bl\u0105 ja\u017a\u0144. \u010ce\u0161tina: P\u0159\u00edli\u0161 \u017elu\u0165ou\u010dk\u00fd k\u016f\u0148."),
    ("greek", "\u039a\u03b1\u03bb\u03b7\u03bc\u03ad\u03c1\u03b1 \u03ba\u03cc\u03c3\u03bc\u03b5! \u0397 \u03b3\u03bb\u03ce\u03c3\u03c3\u03b1 \u03b5\u03af\u03bd\u03b1\u03b9 \u03c9\u03c1\u03b1\u03af\u03b1."),
]

CODE = [
    ("python/function", 'def fib(n: int) -> int:\n    """Return the n-th Fibonacci number."""\n'
     "    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n"),
    ("python/class", "class Point:\n    def __init__(self, x, y):\n        self.x = x\n        self.y = y\n\n"
     "    def __repr__(self):\n        return f\"Point({self.x!r}, {self.y!r})\"\n"),
    ("python/comprehension", "squares = {k: v**2 for k, v in zip('abc', [1, 2, 3]) if v % 2}\nprint(squares)  # {'a': 1, 'c': 9}\n"),
    ("python/tabs", "if True:\n\tif x:\n\t\treturn None\n\telse:\n\t\tpass\n"),
    ("c/main", "#include <stdio.h>\n\nint main(int argc, char **argv) {\n    for (int i = 0; i < argc; ++i) {\n"
     "        printf(\"%d: %s\\n\", i, argv[i]);\n    }\n    return 0;\n}\n"),
    ("c/struct", "typedef struct node {\n\tstruct node *next;\n\tuint32_t value;\n} node_t;\n\n#define MAX(a, b) ((a) > (b) ? (a) : (b))\n"),
    ("c/crlf", "int x = 1;\r\nint y = 2;\r\n\r\nreturn x+y;\r\n"),
    ("rust/fn", "fn main() {\n    let v: Vec<u32> = (0..10).map(|x| x * x).collect();\n    println!(\"{:?}\", v);\n}\n"),
    ("rust/impl", "impl<'a, T: Clone + 'a> Iterator for Iter<'a, T> {\n    type Item = &'a T;\n"
     "    fn next(&mut self) -> Option<Self::Item> { self.inner.next() }\n}\n"),
    ("rust/match", "match x {\n    Some(ref s) if s.len() > 3 => Ok(s.as_str()),\n    _ => Err(\"too short\"),\n}\n"),
    ("js/arrow", "const add = (a, b) => a + b;\nexport default function App() {\n  return <div className=\"app\">{add(1, 2)}</div>;\n}\n"),
    ("js/async", "async function load(url) {\n  const res = await fetch(url, { method: 'GET' });\n"
     "  if (!res.ok) throw new Error(`HTTP ${res.status}`);\n  return res.json();\n}\n"),
    ("js/regex", "const re = /^(?:[a-z0-9!#$%&'*+/=?^_`{|}~-]+)@example\\.com$/i;\nconsole.log(re.test(s) === true);\n"),
    ("shell/script", "#!/bin/sh\nset -euo pipefail\nfor f in *.txt; do\n  echo \"$f\" | tr 'a-z' 'A-Z' >> out.log 2>&1\ndone\n"),
    ("shell/pipeline", "find . -name '*.py' -print0 | xargs -0 grep -n 'TODO' | sort -u | wc -l && echo ok || exit 1"),
    ("json/object", "{\n  \"name\": \"qwenkit\",\n  \"version\": \"0.1.0\",\n  \"tags\": [\"llm\", \"swift\"],\n"
     "  \"nested\": {\"a\": null, \"b\": true, \"c\": -1.5e-3}\n}\n"),
    ("json/compact", "{\"ids\":[1,2,3],\"text\":\"caf\\u00e9\",\"ok\":false}"),
    ("html/page", "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>Test</title></head>\n"
     "<body>\n  <p class=\"x\">Hello&nbsp;&amp;&lt;world&gt;</p>\n</body>\n</html>\n"),
    ("html/inline", "<a href=\"/x?y=1&amp;z=2\">link</a><br/><!-- comment --><script>alert('x')</script>"),
    ("sql", "SELECT id, name FROM users WHERE age >= 18 AND name LIKE 'J%' ORDER BY id DESC LIMIT 10;"),
    ("swift", "struct Tok: Sendable {\n    let ids: [Int32]\n    func count() -> Int { ids.count }\n}\nlet t = Tok(ids: [1, 2])\n"),
    ("go", "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tch := make(chan int, 3)\n\tgo func() { ch <- 42 }()\n\tfmt.Println(<-ch)\n}\n"),
    ("yaml", "name: build\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: swift test\n"),
    ("operators", "a+=1; b-=2; c*=3; d/=4; e%=5; f<<=1; g>>=2; h&&i||!j; k->l; m::n; o?.p ?? q; r === s !== t"),
    ("deep indentation", "                                if x:\n                                    y()\n"),
    ("diff", "--- a/file.txt\n+++ b/file.txt\n@@ -1,3 +1,3 @@\n-old line\n+new line\n context\n"),
]

ZH_HANS = [
    ("sentence", "\u4eca\u5929\u5929\u6c14\u5f88\u597d\uff0c\u6211\u4eec\u53bb\u516c\u56ed\u6563\u6b65\u5427\u3002"),
    ("paragraph", "\u4eba\u5de5\u667a\u80fd\u662f\u8ba1\u7b97\u673a\u79d1\u5b66\u7684\u4e00\u4e2a\u5206\u652f\uff0c\u5b83\u4f01\u56fe\u4e86\u89e3\u667a\u80fd\u7684\u5b9e\u8d28\uff0c"
                  "\u5e76\u751f\u4ea7\u51fa\u4e00\u79cd\u65b0\u7684\u80fd\u4ee5\u4eba\u7c7b\u667a\u80fd\u76f8\u4f3c\u7684\u65b9\u5f0f\u505a\u51fa\u53cd\u5e94\u7684\u667a\u80fd\u673a\u5668\u3002"),
    ("mixed with ascii", "Qwen2\u662f\u963f\u91cc\u5df4\u5df4\u5f00\u53d1\u7684\u5927\u8bed\u8a00\u6a21\u578b\uff08LLM\uff09\uff0c\u652f\u6301128K\u4e0a\u4e0b\u6587\u3002"),
    ("punctuation", "\u300a\u7ea2\u697c\u68a6\u300b\u3001\u300a\u897f\u6e38\u8bb0\u300b\uff1b\u201c\u4f60\u597d\u201d\uff01\u2014\u2014\u8fd9\u662f\u4ec0\u4e48\uff1f\u2026\u2026"),
    ("numbers", "2024\u5e743\u670815\u65e5\uff0c\u6c14\u6e29\u8fbe\u523025.5\u2103\uff0c\u4e09\u5343\u4e00\u767e\u4eba\u3002"),
    ("poem lines", "\u5e8a\u524d\u660e\u6708\u5149\uff0c\n\u7591\u662f\u5730\u4e0a\u971c\u3002\n\u4e3e\u5934\u671b\u660e\u6708\uff0c\n\u4f4e\u5934\u601d\u6545\u4e61\u3002\n"),
    ("chat", "<|im_start|>user\n\u4f60\u597d\uff0c\u8bf7\u4ecb\u7ecd\u4e00\u4e0b\u4f60\u81ea\u5df1\u3002<|im_end|>\n<|im_start|>assistant\n\u6211\u662f\u901a\u4e49\u5343\u95ee\u3002<|im_end|>"),
]

ZH_HANT = [
    ("sentence", "\u6211\u5011\u5728\u81fa\u7063\u5b78\u7fd2\u7e41\u9ad4\u4e2d\u6587\uff0c\u9019\u662f\u4e00\u500b\u5f88\u6709\u8da3\u7684\u8a9e\u8a00\u3002"),
    ("classical", "\u5b78\u800c\u6642\u7fd2\u4e4b\uff0c\u4e0d\u4ea6\u8aaa\u4e4e\uff1f\u6709\u670b\u81ea\u9060\u65b9\u4f86\uff0c\u4e0d\u4ea6\u6a02\u4e4e\uff1f"),
    ("hong kong", "\u9999\u6e2f\u7279\u5225\u884c\u653f\u5340\u653f\u5e9c\u65bc\u4eca\u65e5\u767c\u4f48\u65b0\u805e\u7a3f\u3002"),
    ("vertical quotes", "\u300c\u4f60\u53bb\u54ea\u88e1\uff1f\u300d\u4ed6\u554f\u3002\u300e\u6211\u4e0d\u77e5\u9053\u3002\u300f"),
    ("cjk compatibility ideographs", "\uf900\uf901\uf902 \ufa0e\ufa0f \ufa10"),
]

JA = [
    ("hiragana", "\u3053\u3093\u306b\u3061\u306f\u3001\u304a\u5143\u6c17\u3067\u3059\u304b\uff1f"),
    ("mixed", "\u79c1\u306f\u6771\u4eac\u306b\u4f4f\u3093\u3067\u3044\u307e\u3059\u3002\u6bce\u671d\u30b3\u30fc\u30d2\u30fc\u3092\u98f2\u307f\u307e\u3059\u3002"),
    ("katakana loanwords", "\u30b3\u30f3\u30d4\u30e5\u30fc\u30bf\u30fc\u30fb\u30d7\u30ed\u30b0\u30e9\u30df\u30f3\u30b0\u30fb\u30e9\u30f3\u30b2\u30fc\u30b8"),
    ("halfwidth katakana", "\uff7a\uff9d\uff8b\uff9f\uff6d\uff70\uff80\uff70 \uff76\uff9e\uff77\uff9e"),
    ("dakuten nfd", "\u304b\u3099\u304d\u3099\u304f\u3099 \u30cf\u309a\u30d2\u309a"),
    ("long vowel and small kana", "\u30e9\u30fc\u30e1\u30f3\u3063\u3066\u3001\u3059\u3054\u304f\u304a\u3044\u3057\u3044\u3063\u3059\u306d\u301c"),
    ("haiku", "\u53e4\u6c60\u3084\n\u86d9\u98db\u3073\u8fbc\u3080\n\u6c34\u306e\u97f3\n"),
    ("iteration marks", "\u4eba\u3005 \u65e5\u3005 \u3044\u3059\u309d \u30b3\u30fd"),
]

KO = [
    ("sentence", "\uc548\ub155\ud558\uc138\uc694, \ub9cc\ub098\uc11c \ubc18\uac11\uc2b5\ub2c8\ub2e4."),
    ("paragraph", "\ud55c\uad6d\uc5b4\ub294 \ud55c\uae00\ub85c \uc4f0\uba70, \uc138\uc885\ub300\uc655\uc774 1443\ub144\uc5d0 \ucc3d\uc81c\ud558\uc600\ub2e4."),
    ("mixed", "Swift\ub85c \ud1a0\ud06c\ub098\uc774\uc800\ub97c \uad6c\ud604\ud558\uae30: BPE \uc54c\uace0\ub9ac\uc998"),
    ("compatibility jamo", "\u3131\u314f\u3134 \u314b\u314b\u314b \u314e\u314e"),
    ("conjoining jamo LV", "\u1100\u1161"),
    ("conjoining jamo LVT", "\u1112\u1161\u11ab\u1100\u1173\u11af"),
    ("syllable plus T", "\uac00\u11a8 \ud558\u11ab"),
    ("old hangul jamo", "\u1100\u1161\u11ff \u115f\u1160 \u1113\u1161"),
    ("lone jamo", "\u1100 \u1161 \u11a8"),
]

AR = [
    ("sentence", "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645! \u0643\u064a\u0641 \u062d\u0627\u0644\u0643\u061f"),
    ("harakat", "\u0628\u0650\u0633\u0652\u0645\u0650 \u0627\u0644\u0644\u0651\u064e\u0647\u0650 \u0627\u0644\u0631\u0651\u064e\u062d\u0652\u0645\u064e\u0670\u0646\u0650"),
    ("mixed ltr", "\u0627\u0644\u0625\u0635\u062f\u0627\u0631 3.2 \u0645\u0646 Python \u0635\u062f\u0631 \u0641\u064a 2012."),
    ("arabic-indic digits", "\u0627\u0644\u0633\u0639\u0631 \u0661\u0662\u0663\u066b\u0664\u0665 \u062f\u0631\u0647\u0645"),
    ("tatweel and presentation forms", "\u0643\u0640\u0640\u0640\u062a\u0627\u0628 \ufefb \ufef7 \ufe8d"),
    ("nfd hamza", "\u0627\u0653 \u0627\u0654 \u0648\u0654 \u064a\u0654"),
]

HE = [
    ("sentence", "\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd! \u05de\u05d4 \u05e9\u05dc\u05d5\u05de\u05da?"),
    ("niqqud", "\u05d1\u05b0\u05bc\u05e8\u05b5\u05d0\u05e9\u05b4\u05c1\u05d9\u05ea \u05d1\u05b8\u05bc\u05e8\u05b8\u05d0"),
    ("mixed", "\u05d2\u05e8\u05e1\u05d4 2.0 \u05e9\u05dc GitHub \u05d6\u05de\u05d9\u05e0\u05d4"),
    ("composition exclusions", "\ufb1d\ufb2a\ufb4b \u05d9\u05b4"),
]

TH = [
    ("sentence", "\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35\u0e04\u0e23\u0e31\u0e1a \u0e22\u0e34\u0e19\u0e14\u0e35\u0e17\u0e35\u0e48\u0e44\u0e14\u0e49\u0e23\u0e39\u0e49\u0e08\u0e31\u0e01"),
    ("no spaces", "\u0e1b\u0e23\u0e30\u0e40\u0e17\u0e28\u0e44\u0e17\u0e22\u0e21\u0e35\u0e1e\u0e23\u0e30\u0e21\u0e2b\u0e32\u0e01\u0e29\u0e31\u0e15\u0e23\u0e34\u0e22\u0e4c\u0e40\u0e1b\u0e47\u0e19\u0e1b\u0e23\u0e30\u0e21\u0e38\u0e02"),
    ("thai digits", "\u0e1e.\u0e28. \u0e52\u0e55\u0e56\u0e57 \u0e40\u0e27\u0e25\u0e32 \u0e51\u0e50:\u0e53\u0e50 \u0e19."),
    ("sara am", "\u0e19\u0e49\u0e33 \u0e19\u0e4d\u0e32 \u0e01\u0e33"),
]

HI = [
    ("sentence", "\u0928\u092e\u0938\u094d\u0924\u0947 \u0926\u0941\u0928\u093f\u092f\u093e! \u0906\u092a \u0915\u0948\u0938\u0947 \u0939\u0948\u0902?"),
    ("paragraph", "\u092d\u093e\u0930\u0924 \u090f\u0915 \u0935\u093f\u0936\u093e\u0932 \u0926\u0947\u0936 \u0939\u0948\u0964 \u0907\u0938\u0915\u0940 \u0930\u093e\u091c\u0927\u093e\u0928\u0940 \u0928\u0908 \u0926\u093f\u0932\u094d\u0932\u0940 \u0939\u0948\u0964"),
    ("devanagari digits", "\u0935\u0930\u094d\u0937 \u0968\u0966\u0968\u096a \u092e\u0947\u0902 \u0967\u0968\u0969\u096a\u096b\u096c\u096d\u096e\u096f\u0966 \u0932\u094b\u0917"),
    ("nukta composition exclusion", "\u0958\u0959\u095a \u0915\u093c\u0916\u093c \u095b\u095e"),
    ("bengali", "\u0986\u09ae\u09be\u09b0 \u09b8\u09cb\u09a8\u09be\u09b0 \u09ac\u09be\u0982\u09b2\u09be \u09e7\u09e8\u09e9 \u09a6\u09cb \u09a6\u09c7\u09be"),
]

RU = [
    ("sentence", "\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440! \u041a\u0430\u043a \u0434\u0435\u043b\u0430?"),
    ("paragraph", "\u0412\u0441\u0435 \u0441\u0447\u0430\u0441\u0442\u043b\u0438\u0432\u044b\u0435 \u0441\u0435\u043c\u044c\u0438 \u043f\u043e\u0445\u043e\u0436\u0438 \u0434\u0440\u0443\u0433 \u043d\u0430 \u0434\u0440\u0443\u0433\u0430, "
                  "\u043a\u0430\u0436\u0434\u0430\u044f \u043d\u0435\u0441\u0447\u0430\u0441\u0442\u043b\u0438\u0432\u0430\u044f \u0441\u0435\u043c\u044c\u044f \u043d\u0435\u0441\u0447\u0430\u0441\u0442\u043b\u0438\u0432\u0430 \u043f\u043e-\u0441\u0432\u043e\u0435\u043c\u0443."),
    ("yo nfd", "\u0435\u0308\u0436 \u0415\u0308\u0416 \u0438\u0306\u043e\u0434"),
    ("stress marks", "\u0437\u0430\u0301\u043c\u043e\u043a \u0437\u0430\u043c\u043e\u0301\u043a"),
    ("caps and numbers", "\u041c\u041e\u0421\u041a\u0412\u0410 2024 \u0433. \u2116 5, \u0441\u0442\u0440. 12\u201314"),
    ("ukrainian", "\u0407\u0436\u0430\u043a \u0491\u0435\u0301\u043d\u0456\u0439 \u0454\u0434\u043d\u0430\u043d\u043d\u044f \u0457"),
]

VI_TEXTS = [
    ("sentence", "Ti\u1ebfng Vi\u1ec7t c\u00f3 d\u1ea5u r\u1ea5t \u0111\u1eb9p."),
    ("paragraph", "Vi\u1ec7t Nam l\u00e0 m\u1ed9t qu\u1ed1c gia n\u1eb1m \u1edf ph\u00eda \u0111\u00f4ng b\u00e1n \u0111\u1ea3o \u0110\u00f4ng D\u01b0\u01a1ng."),
    ("tones", "ma m\u00e0 m\u00e1 m\u1ea3 m\u00e3 m\u1ea1 \u01a1 \u01b0 \u0103 \u00e2 \u00ea \u00f4"),
    ("caps", "H\u00c0 N\u1ed8I, TH\u00c0NH PH\u1ed0 H\u1ed2 CH\u00cd MINH"),
]

EMOJI = [
    ("simple", "I \u2764\ufe0f Swift \U0001F600\U0001F389\U0001F680"),
    ("zwj family", "\U0001F468\u200d\U0001F469\u200d\U0001F467\u200d\U0001F466"),
    ("zwj profession", "\U0001F469\u200d\U0001F4BB \U0001F468\u200d\U0001F52C \U0001F3F3\ufe0f\u200d\U0001F308"),
    ("skin tones", "\U0001F44D\U0001F3FB \U0001F44D\U0001F3FC \U0001F44D\U0001F3FD \U0001F44D\U0001F3FE \U0001F44D\U0001F3FF"),
    ("zwj with skin tone", "\U0001F469\U0001F3FD\u200d\U0001F680 \U0001F937\U0001F3FB\u200d\u2642\ufe0f"),
    ("flags", "\U0001F1FA\U0001F1F8\U0001F1EF\U0001F1F5\U0001F1E8\U0001F1F3\U0001F1E9\U0001F1EA"),
    ("odd regional indicators", "\U0001F1FA\U0001F1F8\U0001F1EF"),
    ("subdivision flag tags", "\U0001F3F4\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F"),
    ("keycaps", "#\ufe0f\u20e3 *\ufe0f\u20e3 0\ufe0f\u20e3 1\ufe0f\u20e3 9\u20e3"),
    ("text vs emoji presentation", "\u2600\ufe0e \u2600\ufe0f \u263a \u263a\ufe0f"),
    ("emoji in text", "Deploy done \u2705, tests \u274c, coffee \u2615\u2615\u2615!"),
    ("emoji run no spaces", "\U0001F436\U0001F431\U0001F42D\U0001F439\U0001F430\U0001F98A\U0001F43B\U0001F43C"),
    ("emoji with newline", "\U0001F4A9\n\U0001F4A9\n"),
    ("emoji after space and punct", " \U0001F600! ?\U0001F600 .\U0001F600"),
]

COMBINING = [
    ("e acute nfd", "e\u0301"),
    ("cafe nfd", "e\u0301 cafe\u0301"),
    ("two marks compose", "a\u0300\u0301b"),
    ("angstrom sign", "\u212b"),
    ("ohm sign", "\u2126"),
    ("kelvin sign", "\u212a"),
    ("kelvin contraction", "'\u212aay"),
    ("angstrom with text", "10 \u212b and 5 \u2126 at 300 \u212a"),
    ("reorder 0301 0316", "a\u0301\u0316"),
    ("reorder 0301 0323 on e", "e\u0301\u0323"),
    ("reorder nonstarter chain", "x\u0308\u0327\u0301\u0316\u0323"),
    ("reorder then compose", "o\u031b\u0301 o\u0301\u031b u\u031b\u0323 u\u0323\u031b"),
    ("blocked composition", "a\u0301\u0301 a\u0332\u0301"),
    ("greek dialytika tonos U+0344", "\u03b9\u0344 \u0344"),
    ("tibetan U+0F73", "\u0f40\u0f73 \u0f73 \u0f75 \u0f81"),
    ("singletons 0340 0341 0343", "a\u0340 e\u0341 \u03b1\u0343"),
    ("singletons 0374 037E 0387 1FEF", "\u0374 x\u037e y\u0387 \u1fef"),
    ("singletons 2000 2001", "a\u2000b\u2001c"),
    ("cjk compatibility singleton", "\uf900 \U0002F800"),
    ("composition exclusions", "\u0958 \u2adc \U0001D15E \U0001D15F"),
    ("lone mark at start", "\u0301abc"),
    ("lone mark alone", "\u0301"),
    ("space then mark", " \u0301"),
    ("newline then mark", "\n\u0301x"),
    ("digit then mark", "1\u0301 2\u20e3"),
    ("mark after punct", "!\u0301 .\u0308"),
    ("many marks zalgo", "Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319\u0324\u031e\u0349\u035a\u032f\u031e\u0320\u034da\u0300\u0300\u0301l\u0338g\u0315o"),
    ("cgj", "a\u034f\u0301 a\u0301\u034f"),
    ("precomposed nfc unchanged", "\u00c5 \u00e9 \u1e69 \u01fa \u1ea0"),
    ("nfd of precomposed", ud.normalize("NFD", "\u00c5\u00e9\u1e69\u01fa\u1ea0\u1ec7\u01d5")),
    ("hangul nfd", ud.normalize("NFD", "\ud55c\uad6d\uc5b4 \ud14d\uc2a4\ud2b8")),
    ("not equivalent: compat", "\ufb01 \u00b5 \u2160 \u00bd \u2122 \u33a1 \uff21"),
    ("combining enclosing", "a\u20dd b\u20de"),
    ("variation selectors", "\u8fbb\U000E0100 \u8fbb\U000E0101 \u2764\ufe0f"),
    ("greek with tonos nfd", ud.normalize("NFD", "\u1f00\u1f04\u1f86 \u0390 \u03b0")),
    ("devanagari nfd", ud.normalize("NFD", "\u0929\u0931\u0934")),
    ("ohm plus mark", "\u2126\u0301"),
    ("angstrom plus mark", "\u212b\u0301"),
    ("special token then mark", "<|im_end|>\u0338"),
    ("special token then acute", "<|endoftext|>\u0301x"),
    ("gt then long solidus", "a>\u0338b =\u0338 <\u0338"),
]

SPECIAL_CASES = [
    ("endoftext", "<|endoftext|>"),
    ("im_start", "<|im_start|>"),
    ("im_end", "<|im_end|>"),
    ("chat turn", "<|im_start|>user\nhi<|im_end|>"),
    ("full chat", "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n"),
    ("truncated endoftext", "<|endoftext|"),
    ("truncated im_start", "<|im_start|"),
    ("no bars", "<endoftext>"),
    ("double brackets", "<<|im_end|>>"),
    ("uppercase", "<|ENDOFTEXT|>"),
    ("adjacent", "<|endoftext|><|endoftext|>"),
    ("adjacent mixed", "<|im_start|><|im_end|><|endoftext|>"),
    ("inside word", "hi<|im_start|>there"),
    ("inside word 2", "foo<|endoftext|>bar<|im_end|>baz"),
    ("spaces around", " <|endoftext|> "),
    ("two spaces around", "a  <|im_end|>  b"),
    ("newlines around", "\n<|im_start|>\n\n<|im_end|>\n"),
    ("space inside", "<| endoftext |>"),
    ("nested", "<|im_<|endoftext|>start|>"),
    ("overlap prefix", "<|im_start|im_end|>"),
    ("bar prefix", "|<|endoftext|>|"),
    ("angle prefix", "<<|endoftext|"),
    ("trailing pipe", "<|im_end||>"),
    ("fullwidth lookalike", "\uff1c\uff5cendoftext\uff5c\uff1e"),
    ("after contraction", "it's<|endoftext|>'s"),
    ("digits around", "1<|endoftext|>2"),
    ("punct around", "!<|im_end|>?"),
    ("cjk around", "\u4f60<|im_end|>\u597d"),
    ("emoji around", "\U0001F600<|endoftext|>\U0001F600"),
    ("qwen25 token not special here", "<|fim_prefix|>x<|fim_suffix|>y<|fim_middle|>"),
    ("tool call not special here", "<tool_call>{}</tool_call>"),
    ("repeated", "<|endoftext|>" * 10),
    ("just bars", "<||>"),
]


def whitespace_cases():
    ws = [
        ("CRLF", "\r\n"), ("CR", "\r"), ("LF", "\n"), ("TAB", "\t"), ("VT U+000B", "\x0b"), ("FF U+000C", "\x0c"),
        ("NBSP U+00A0", "\u00a0"), ("OGHAM U+1680", "\u1680"), ("U+2000", "\u2000"), ("U+2001", "\u2001"),
        ("U+2002", "\u2002"), ("U+2003", "\u2003"), ("U+2004", "\u2004"), ("U+2005", "\u2005"), ("U+2006", "\u2006"),
        ("U+2007", "\u2007"), ("U+2008", "\u2008"), ("U+2009", "\u2009"), ("U+200A", "\u200a"),
        ("LS U+2028", "\u2028"), ("PS U+2029", "\u2029"), ("NNBSP U+202F", "\u202f"), ("MMSP U+205F", "\u205f"),
        ("IDSP U+3000", "\u3000"), ("NEL U+0085", "\x85"), ("FS U+001C", "\x1c"), ("GS U+001D", "\x1d"),
        ("RS U+001E", "\x1e"), ("US U+001F", "\x1f"), ("MVS U+180E", "\u180e"), ("ZWSP U+200B", "\u200b"),
        ("BOM U+FEFF", "\ufeff"), ("SPACE", " "), ("ZWNJ U+200C", "\u200c"), ("ZWJ U+200D", "\u200d"),
        ("WJ U+2060", "\u2060"),
    ]
    templates = [
        ("between words", "x{W}y"), ("triple between words", "x{W}{W}{W}y"), ("leading", "{W}x"), ("trailing", "x{W}"),
        ("alone", "{W}"), ("spaced", "x {W} y"), ("before space word", "x{W} y"), ("before newline", "x{W}\ny"),
        ("probe", "!{W}!"), ("before digit", "a{W}1"),
    ]
    out = []
    for wname, w in ws:
        for tname, t in templates:
            out.append(("whitespace/%s %s" % (wname, tname), t.replace("{W}", w)))
    extra = [
        ("run of spaces before word", "a     b"), ("two spaces", "a  b"), ("trailing spaces", "ab   "),
        ("leading spaces", "   ab"), ("only spaces", "     "), ("spaces before newline", "a   \n\n b"),
        ("runs of newlines", "a\n\n\n\nb"), ("crlf runs", "a\r\n\r\n\r\nb"), ("mixed crlf lf cr", "a\r\n\n\rb\r"),
        ("tabs before words", "\t\tfoo\tbar"), ("tab space mix", " \t \t x"), ("newline space newline", "\n \n \n"),
        ("space newline word", "x \ny"), ("punct swallows newlines", "foo!!\n\n\nbar"), ("punct then spaces newline", "foo! \n bar"),
        ("indentation", "line\n    indented\n        more\n"), ("trailing newline only", "\n"), ("only newlines", "\n\n\n"),
        ("nbsp run", "a\u00a0\u00a0\u00a0b"), ("ideographic space run", "\u3000\u3000\u6f22\u5b57"),
        ("ls before word", "x\u2028y"), ("mixed unicode spaces", "a \u2003\u2009\u00a0 b"), ("space then ls", "a \u2028b"),
        ("vt ff run", "\x0b\x0c\x0b\x0cx"), ("nel in text", "line1\x85line2"), ("crlf then spaces", "a\r\n   b"),
        ("spaces then punct", "a   !b"), ("space punct newline", " ,\n"), ("1000 spaces", " " * 1000),
        ("500 newlines", "\n" * 500), ("spaces and tabs run", " \t" * 100 + "x"),
    ]
    out += [("whitespace/" + n, t) for n, t in extra]
    return out


def contraction_cases():
    conts = ["'s", "'S", "'t", "'T", "'re", "'Re", "'rE", "'RE", "'ve", "'VE", "'vE", "'m", "'M", "'ll", "'lL", "'LL",
             "'d", "'D"]
    tmpl = [("after word", "it{C}"), ("after caps", "IT{C}"), ("after space", " {C}"), ("alone", "{C}"),
            ("followed by letters", "x{C}x"), ("followed by digit", "x{C}1")]
    out = []
    for c in conts:
        for tname, t in tmpl:
            out.append(("contractions/%s %s" % (c, tname), t.replace("{C}", c)))
    extra = [
        ("IT'S", "IT'S"), ("sentence", "I'm sure they're here, we've seen it, he'll come, she'd know, it's John's."),
        ("shouting", "I'M SURE THEY'RE HERE, WE'VE SEEN IT, HE'LL COME, SHE'D KNOW."),
        ("long s", "'\u017f"), ("long s word", "it'\u017f ok"), ("long s t", "'\u017ft"),
        ("kelvin", "'\u212a"), ("kelvin word", "'\u212aay"),
        ("ligature st", "'\ufb06"), ("ligature long s t", "'\ufb05"), ("sharp s", "'\u00df"),
        ("dotted I", "'\u0130"), ("dotless i", "'\u0131"), ("fullwidth S", "'\uff33"), ("small cap L", "'\u029f\u029f"),
        ("greek sigma", "'\u03c3 '\u03a3"), ("near miss x", "'x"), ("double apostrophe", "''s"), ("lone apostrophe", "'"),
        ("trailing apostrophe", "dogs'"), ("apostrophe space", "' s"), ("right quote", "it\u2019s"),
        ("modifier apostrophe", "it\u02bcs"), ("apostrophe digits", "'90s"), ("apostrophe newline", "'\n's"),
        ("many apostrophes", "''''''"), ("quoted", "'hello'"), ("lls", "'lls 'res 'ves 'ds"),
        ("partial re", "'r 'v 'l"), ("contraction then punct", "'s!"), ("cjk after", "'s\u4e2d"),
        ("space apostrophe word", "rock 'n' roll"), ("possessive plural", "the Smiths' car's"),
    ]
    out += [("contractions/" + n, t) for n, t in extra]
    return out


def digit_cases():
    d = [
        ("ascii", "0123456789"), ("number", "12345"), ("decimal", "3.14159"), ("thousands", "1,000,000"),
        ("superscripts", "x\u00b2+y\u00b2=z\u00b2 \u00b9\u00b3 \u2070\u2074\u2075\u2076\u2077\u2078\u2079"),
        ("subscripts", "H\u2082O CO\u2082 x\u2080"), ("fractions", "\u00bd \u00bc \u00be \u2153 \u215e 1\u20442"),
        ("roman numerals", "\u216b \u217b \u2160\u2161\u2162 \u2182"), ("arabic-indic", "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669"),
        ("extended arabic-indic", "\u06f0\u06f1\u06f2\u06f3\u06f4\u06f5\u06f6\u06f7\u06f8\u06f9"),
        ("devanagari", "\u0966\u0967\u0968\u0969\u096a\u096b\u096c\u096d\u096e\u096f"), ("fullwidth", "\uff10\uff11\uff12\uff13\uff19"),
        ("bengali thai tibetan", "\u09e6\u09ef \u0e50\u0e59 \u0f20\u0f29"), ("circled", "\u2460\u2461\u2462 \u2473 \u24ea"),
        ("math bold digits", "\U0001D7CE\U0001D7CF\U0001D7D0"), ("ideographic zero and hangzhou", "\u3007 \u3021\u3022\u3029"),
        ("aegean and greek acrophonic", "\U00010107\U00010140"), ("digits in words", "abc123def 4x4 mp3 h264"),
        ("version", "v1.2.3-rc.4+build.5"), ("scientific", "6.022e23 1e-10 -0.5E+3"), ("hex", "0xDEADBEEF 0b1010 0o777"),
        ("money", "$100 \u20ac5 \u00a33.50 \u00a51000 \u20b9250"), ("percent", "100% 99.9%"), ("phone", "+1 (555) 123-4567"),
        ("date time", "2024-03-15T12:34:56Z"), ("ip", "192.168.0.1:8080"), ("long digit run", "1234567890" * 100),
        ("digits separated by spaces", "1 2 3 4 5"), ("digit space word", "3 apples"), ("mixed scripts digits", "1\u0661\u0967\uff11\u0e51"),
        ("No after letter", "a\u00b2b"), ("Nl after letter", "x\u2163y"), ("digit contraction", "5's 80's"),
        ("dingbat negative circled", "\u2776\u2777\u2778"), ("parenthesized", "\u2474\u2475 \u2488"),
    ]
    return [("digits/" + n, t) for n, t in d]


def single_char_cases():
    out = []
    for cp in range(0x80):
        out.append(("single/ascii U+%04X" % cp, chr(cp)))
    for cp in [0x80, 0x85, 0x9F, 0xA0, 0xA9, 0xAD, 0xB5, 0xBF, 0xC0, 0xD7, 0xDF, 0xE9, 0xF7, 0xFF, 0x100, 0x17F, 0x1C5,
               0x2BC, 0x300, 0x391, 0x3C2, 0x401, 0x5D0, 0x627, 0x915, 0xE01, 0x10D0, 0x1E9E, 0x20AC, 0x2122, 0x2603,
               0x3042, 0x30A2, 0x4E00, 0x9FA5, 0xAC00, 0xD7A3, 0xE000, 0xFB01, 0xFF21, 0xFFFD, 0x1F600, 0x10FFFD]:
        out.append(("single/U+%04X" % cp, chr(cp)))
    return out


def misc_cases(rng):
    out = []
    letters = "abcdefghijklmnopqrstuvwxyz"
    out.append(("long/10k random letters", "".join(rng.choice(letters) for _ in range(10000))))
    out.append(("long/10k letter a", "a" * 10000))
    out.append(("long/10k mixed case word", "".join(rng.choice(letters + letters.upper()) for _ in range(10000))))
    cjk = [chr(c) for c in range(0x4E00, 0x9FA6)]
    common = "\u7684\u4e00\u662f\u4e0d\u4e86\u4eba\u6211\u5728\u6709\u4ed6\u8fd9\u4e2d\u5927\u6765\u4e0a\u56fd\u4e2a\u5230\u8bf4\u4eec\u4e3a\u5b50\u548c\u4f60\u5730\u51fa\u9053\u4e5f\u65f6\u5e74"
    out.append(("long/5k CJK run common", "".join(rng.choice(common) for _ in range(5000))))
    out.append(("long/5k CJK run any", "".join(rng.choice(cjk) for _ in range(5000))))
    out.append(("long/digit run 3000", "".join(rng.choice("0123456789") for _ in range(3000))))
    out.append(("long/punct run !", "!" * 5000))
    out.append(("long/punct run mixed", "".join(rng.choice("!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~") for _ in range(5000))))
    out.append(("long/equals rule", "=" * 2000 + "\n" + "-" * 2000))
    out.append(("long/20k-byte line of one emoji", "\U0001F600" * 5000))
    out.append(("long/thai run", "".join(rng.choice([chr(c) for c in range(0xE01, 0xE2F)]) for _ in range(3000))))
    out.append(("long/arabic word", "\u0627\u0644\u0633\u0644\u0627\u0645" * 500))
    out.append(("long/hangul run", "".join(chr(rng.randrange(0xAC00, 0xD7A4)) for _ in range(3000))))
    out.append(("long/many short words", " ".join(rng.choice(["the", "of", "and", "a", "to", "in", "is", "you", "that", "it"]) for _ in range(2000))))
    out.append(("long/base64", "".join(rng.choice(letters + letters.upper() + "0123456789+/") for _ in range(4000)) + "=="))
    out.append(("empty/empty string", ""))
    ctrl = [
        ("NUL inside", "a\u0000b"), ("NUL alone", "\u0000"), ("NUL run", "\u0000\u0000\u0000"), ("C0 controls", "\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008"),
        ("DEL", "a\u007fb"), ("C1 controls", "\u0080\u0081\u009f"), ("ANSI escape", "\u001b[31mred\u001b[0m"),
        ("backspace", "abc\u0008\u0008x"), ("bell", "\u0007ding"), ("soft hyphen", "co\u00adop"), ("bidi marks", "a\u200eb\u200fc\u202ad\u202ce"),
        ("interlinear annotation", "\ufff9a\ufffab\ufffb"), ("replacement char", "\ufffd\ufffd"), ("object replacement", "\ufffc"),
        ("language tag", "\U000E0001\U000E0065\U000E006E"),
    ]
    out += [("control/" + n, t) for n, t in ctrl]
    pua = [
        ("BMP PUA", "\ue000"), ("PUA in word", "a\uf8ffb"), ("plane 15 PUA", "\U000F0000"), ("plane 16 PUA", "\U0010FFFD"),
        ("PUA run", "\ue000\ue001\ue002\uf8ff"),
    ]
    out += [("pua/" + n, t) for n, t in pua]
    nonchar = [
        ("U+FFFE", "\ufffe"), ("U+FFFF", "\uffff"), ("U+FDD0", "\ufdd0"), ("U+FDEF in word", "x\ufdefy"),
        ("U+1FFFE", "\U0001FFFE"), ("U+10FFFF", "\U0010FFFF"), ("U+FFFE U+FFFF", "a\ufffe\uffffb"),
    ]
    out += [("nonchar/" + n, t) for n, t in nonchar]
    planes = [
        ("math bold", "\U0001D400\U0001D401\U0001D402 \U0001D41A\U0001D41B"), ("math fraktur", "\U0001D518\U0001D52B\U0001D526\U0001D520\U0001D52C\U0001D521\U0001D522"),
        ("cjk ext b", "\U00020000\U00020001\U0002A6D6"), ("cjk ext b in sentence", "\u4f60\U00020000\u597d\U0002000B"),
        ("gothic deseret", "\U00010330\U00010331 \U00010400\U00010428"), ("linear b", "\U00010000\U00010001"),
        ("cuneiform", "\U00012000\U00012001"), ("egyptian hieroglyphs", "\U00013000\U00013001"),
        ("musical symbols", "\U0001D11E\U0001D122"), ("mahjong domino", "\U0001F000\U0001F030"),
        ("old italic", "\U00010300\U00010301"), ("adlam", "\U0001E900\U0001E922\U0001E944"),
    ]
    out += [("planes/" + n, t) for n, t in planes]
    misc = [
        ("box drawing", "\u250c\u2500\u2500\u2510\n\u2502 x \u2502\n\u2514\u2500\u2500\u2518"),
        ("math symbols", "\u2200x\u2208\u211d: x\u00b2 \u2265 0 \u2227 \u2203y \u2260 \u221e \u2211\u220f\u222b"),
        ("arrows", "\u2190\u2191\u2192\u2193 \u21d2 \u27f6"), ("currency", "\u00a2\u00a3\u00a4\u00a5\u20a0\u20b9\u20bd\u20b4"),
        ("armenian georgian", "\u0532\u0561\u0580\u0565\u0582 \u10d2\u10d0\u10db\u10d0\u10e0\u10ef\u10dd\u10d1\u10d0"),
        ("ethiopic cherokee", "\u1230\u120b\u121d \u13a0\u13a1\u13a2"), ("mongolian", "\u182e\u1823\u1829\u182d\u1823\u182f"),
        ("tamil", "\u0bb5\u0ba3\u0b95\u0bcd\u0b95\u0bae\u0bcd"), ("khmer", "\u1785\u17c6\u178e\u17bb\u17c7"),
        ("mixed everything", "Hi \u4f60\u597d \u3053\u3093\u306b\u3061\u306f \uc548\ub155 \u041f\u0440\u0438\u0432\u0435\u0442 \u0645\u0631\u062d\u0628\u0627 \u05e9\u05dc\u05d5\u05dd \U0001F600 123 it's"),
        ("letter then cjk", "abc\u4e2d\u6587def"), ("dollar x", "$x"), ("at mention", "@user #tag"),
        ("punct letter", ".hidden _private -flag"), ("underscore words", "__init__ snake_case_name"),
        ("unicode punct", "\u00bfQu\u00e9? \u00a1S\u00ed! \u00abguillemets\u00bb \u201edeutsch\u201c"),
        ("nbsp before letter", "a\u00a0b"), ("mark only word", "\u0301\u0302\u0303"),
    ]
    out += [("misc/" + n, t) for n, t in misc]
    return out


def hand_written_cases(rng):
    cases = []
    cases += [("english/" + n, t) for n, t in ENGLISH]
    cases += [("code/" + n, t) for n, t in CODE]
    cases += [("zh-hans/" + n, t) for n, t in ZH_HANS]
    cases += [("zh-hant/" + n, t) for n, t in ZH_HANT]
    cases += [("ja/" + n, t) for n, t in JA]
    cases += [("ko/" + n, t) for n, t in KO]
    cases += [("ko/nfd " + n, ud.normalize("NFD", t)) for n, t in KO[:3]]
    cases += [("ar/" + n, t) for n, t in AR]
    cases += [("he/" + n, t) for n, t in HE]
    cases += [("th/" + n, t) for n, t in TH]
    cases += [("hi/" + n, t) for n, t in HI]
    cases += [("ru/" + n, t) for n, t in RU]
    for n, t in VI_TEXTS:
        cases.append(("vi/nfc " + n, ud.normalize("NFC", t)))
        cases.append(("vi/nfd " + n, ud.normalize("NFD", t)))
    cases.append(("vi/mark order variants", "e\u0323\u0302 e\u0302\u0323 o\u031b\u0309 u\u031b\u0303 a\u0306\u0301 A\u0301\u0306"))
    cases += [("emoji/" + n, t) for n, t in EMOJI]
    cases += [("combining/" + n, t) for n, t in COMBINING]
    cases += whitespace_cases()
    cases += digit_cases()
    cases += contraction_cases()
    cases += [("special/" + n, t) for n, t in SPECIAL_CASES]
    cases += single_char_cases()
    cases += misc_cases(rng)
    names = [n for n, _ in cases]
    assert len(names) == len(set(names)), [n for n in names if names.count(n) > 1]
    return cases


# ----------------------------------------------------------------------------------------------
# Random strings
# ----------------------------------------------------------------------------------------------

BLOCKS = [
    ("latin", 0x0041, 0x007A), ("latin1", 0x00C0, 0x00FF), ("latin-ext-a", 0x0100, 0x017F), ("latin-ext-b", 0x0180, 0x024F),
    ("ipa", 0x0250, 0x02AF), ("latin-ext-add", 0x1E00, 0x1EFF), ("greek", 0x0370, 0x03FF), ("cyrillic", 0x0400, 0x04FF),
    ("armenian", 0x0530, 0x058F), ("hebrew", 0x0590, 0x05FF), ("arabic", 0x0600, 0x06FF), ("devanagari", 0x0900, 0x097F),
    ("bengali", 0x0980, 0x09FF), ("thai", 0x0E00, 0x0E7F), ("georgian", 0x10A0, 0x10FF), ("hangul-syllables", 0xAC00, 0xD7A3),
    ("hangul-jamo", 0x1100, 0x11FF), ("hangul-compat-jamo", 0x3130, 0x318F), ("hiragana", 0x3040, 0x309F),
    ("katakana", 0x30A0, 0x30FF), ("cjk", 0x4E00, 0x9FA5), ("cjk-punct", 0x3000, 0x303F), ("fullwidth", 0xFF00, 0xFFEF),
    ("combining", 0x0300, 0x036F), ("general-punct", 0x2000, 0x206F), ("currency", 0x20A0, 0x20BF),
    ("math", 0x2200, 0x22FF), ("box", 0x2500, 0x257F), ("letterlike", 0x2100, 0x214F), ("number-forms", 0x2150, 0x218F),
    ("emoji", 0x1F300, 0x1F64F), ("emoji-supp", 0x1F680, 0x1F6FF), ("misc-symbols", 0x2600, 0x26FF),
    ("dingbats", 0x2700, 0x27BF), ("math-alnum", 0x1D400, 0x1D7FF), ("cjk-ext-b", 0x20000, 0x2A6D6),
    ("tamil", 0x0B80, 0x0BFF), ("ethiopic", 0x1200, 0x137F), ("syriac", 0x0700, 0x074F), ("tibetan", 0x0F00, 0x0FFF),
    ("combining-ext", 0x1AB0, 0x1AFF), ("combining-supp", 0x1DC0, 0x1DFF), ("latin-ext-c-d-e", 0xA720, 0xA7FF),
]
DIGITS = "0123456789\u0660\u0661\u0662\u06f5\u0966\u0967\u09e6\u0e51\uff10\uff15\u00b2\u00b3\u00b9\u00bd\u00bc\u2160\u216b\u2460\u3007\U0001D7CE"
WHITESPACE = [" ", " ", " ", "  ", "\n", "\n", "\n\n", "\r\n", "\r", "\t", "\x0b", "\x0c", "\u00a0", "\u1680", "\u2000",
              "\u2003", "\u2009", "\u200a", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000", "\x85", "\x1c", "\x1f",
              "\u180e", "\u200b", "\ufeff", "    ", "\t\t", " \n", "\n "]
CONTRACTIONS = ["s", "t", "re", "ve", "m", "ll", "d"]
ASCII_PUNCT = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
WORDS = ("the of and to in is you that it he was for on are as with his they at be this have from or one had by "
         "word but not what all were we when your can said there use an each which she do how their if will up "
         "other about out many then them these so some her would make like him into time has look two more write "
         "go see number no way could people my than first water been call who oil its now find long down day did "
         "get come made may part").split()
EMOJI_SEQS = ["\U0001F600", "\U0001F44D\U0001F3FD", "\U0001F468\u200d\U0001F469\u200d\U0001F467", "\U0001F1EF\U0001F1F5",
              "\u2764\ufe0f", "1\ufe0f\u20e3", "\U0001F3F3\ufe0f\u200d\U0001F308", "\u2615", "\U0001F937\u200d\u2640\ufe0f"]


def build_pools():
    pools = {}
    for name, lo, hi in BLOCKS:
        chars = []
        for cp in range(lo, hi + 1):
            c = chr(cp)
            if is_strict_cp(cp) and ud.category(c) not in ("Cn", "Cs", "Co"):
                chars.append(c)
        assert chars, name
        pools[name] = chars
    return pools


def random_string(rng, pools, block_names):
    target = rng.choice([rng.randint(0, 12), rng.randint(0, 60), rng.randint(0, 150), rng.randint(0, 300)])
    # each string favours a few blocks, so that runs of one script are common
    fav = rng.sample(block_names, rng.randint(1, 4))
    parts = []
    n = 0
    while n < target:
        r = rng.random()
        if r < 0.34:
            b = rng.choice(fav) if rng.random() < 0.8 else rng.choice(block_names)
            k = rng.choice([1, 1, 2, 3, 5, 8, 13])
            s = "".join(rng.choice(pools[b]) for _ in range(k))
        elif r < 0.46:
            s = rng.choice(WORDS)
            if rng.random() < 0.2:
                s = s.capitalize()
            elif rng.random() < 0.05:
                s = s.upper()
        elif r < 0.60:
            s = rng.choice(WHITESPACE)
        elif r < 0.67:
            c = rng.choice(CONTRACTIONS)
            c = "".join(ch.upper() if rng.random() < 0.4 else ch for ch in c)
            s = "'" + c
            if rng.random() < 0.05:
                s = "'" + rng.choice(["\u017f", "\u212a", "x", "'", "\ufb06"])
        elif r < 0.75:
            s = "".join(rng.choice(ASCII_PUNCT) for _ in range(rng.choice([1, 1, 1, 2, 3])))
        elif r < 0.82:
            s = "".join(rng.choice(DIGITS) if rng.random() < 0.3 else rng.choice("0123456789")
                        for _ in range(rng.choice([1, 2, 3, 4, 6])))
        elif r < 0.86:
            s = "\n" * rng.choice([1, 1, 2, 3])
        elif r < 0.88:
            s = rng.choice(SPECIALS + ["<|endoftext|", "<|im_", "|>", "<|"])
        elif r < 0.93:
            s = rng.choice(EMOJI_SEQS)
        elif r < 0.97:
            s = "".join(rng.choice(pools["combining"]) for _ in range(rng.choice([1, 1, 2, 3])))
        else:
            s = rng.choice(pools["latin"]) + rng.choice(pools["combining"])
        parts.append(s)
        n += len(s)
    text = "".join(parts)[:300]
    r = rng.random()
    if r < 0.15:
        text = ud.normalize("NFD", text)[:300]
    elif r < 0.20:
        text = ud.normalize("NFC", text)
    return text


# ----------------------------------------------------------------------------------------------
# Decode cases
# ----------------------------------------------------------------------------------------------

def decode_cases(g, rng):
    tok = g.tok
    vocab = tok.get_vocab(with_added_tokens=False)
    b2u = bytes_to_unicode()
    byte_id = [vocab[b2u[b]] for b in range(256)]
    # tokens that are not valid UTF-8 on their own (partial multi-byte characters)
    u2b = {v: k for k, v in b2u.items()}
    partial = []
    for t, i in sorted(vocab.items(), key=lambda kv: kv[1]):
        bs = bytes(u2b[c] for c in t)
        try:
            bs.decode("utf-8")
        except UnicodeDecodeError:
            partial.append(i)
    nvocab = tok.get_vocab_size(with_added_tokens=True)
    assert nvocab == 151646

    def rec(name, ids):
        return {"name": name, "ids": ids, "text": tok.decode(ids, skip_special_tokens=False),
                "text_skip_special": tok.decode(ids, skip_special_tokens=True)}

    out = [rec("empty", []), rec("specials only", SPECIAL_IDS), rec("one special", [151643])]
    for b in [0x00, 0x0A, 0x20, 0x41, 0x7F, 0x80, 0xBF, 0xC0, 0xC1, 0xC2, 0xE0, 0xED, 0xF0, 0xF4, 0xF5, 0xFF]:
        out.append(rec("byte 0x%02X" % b, [byte_id[b]]))
    # characters split across byte tokens and across partial tokens
    samples = ["\u00e9", "\u4e2d\u6587", "\U0001F600", "\ud55c\uad6d", "\u0928\u092e\u0938\u094d\u0924\u0947",
               "\U0001F468\u200d\U0001F469\u200d\U0001F467", "a\u0301", "\U00020000", "\uffff\ufffe", "\u0000x"]
    for s in samples:
        bs = s.encode("utf-8")
        out.append(rec("split bytes %s" % s.encode("unicode_escape").decode(), [byte_id[b] for b in bs]))
        if len(bs) > 1:
            out.append(rec("truncated %s" % s.encode("unicode_escape").decode(), [byte_id[b] for b in bs[:-1]]))
            out.append(rec("missing lead %s" % s.encode("unicode_escape").decode(), [byte_id[b] for b in bs[1:]]))
            out.append(rec("special inside %s" % s.encode("unicode_escape").decode(),
                           [byte_id[b] for b in bs[:1]] + [151643] + [byte_id[b] for b in bs[1:]]))
        ids = tok.encode(s, add_special_tokens=False).ids
        out.append(rec("encoded %s" % s.encode("unicode_escape").decode(), ids))
    # invalid sequences: overlong, surrogates, out of range, lone continuation
    invalid = [b"\xc0\xaf", b"\xe0\x80\xaf", b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xf4\x90\x80\x80", b"\xf8\x88\x80\x80\x80",
               b"\x80\x80\x80", b"\xe4\xb8", b"\xe4\xb8x", b"\xf0\x9f\x98", b"\xf0\x9f\x98\xf0\x9f\x98\x80", b"a\xffb\xfec",
               b"\xc2", b"\xe2\x82\xac\xe2\x82", b"\xef\xbb\xbf", b"\xef\xbf\xbe"]
    for bs in invalid:
        out.append(rec("invalid %s" % bs.hex(), [byte_id[b] for b in bs]))
    # random sequences
    for i in range(N_DECODE_RANDOM):
        n = rng.choice([1, 2, 3, 5, 8, 13, 21, 30])
        mode = rng.random()
        ids = []
        for _ in range(n):
            r = rng.random()
            if mode < 0.3:      # uniform
                ids.append(rng.randrange(nvocab))
            elif r < 0.35:
                ids.append(rng.choice(byte_id[0x80:]))
            elif r < 0.45:
                ids.append(rng.choice(byte_id))
            elif r < 0.55:
                ids.append(rng.choice(SPECIAL_IDS))
            elif r < 0.75:
                ids.append(rng.choice(partial))
            else:
                ids.append(rng.randrange(nvocab))
        out.append(rec("random/%d" % i, ids))
    return out, len(partial)


# ----------------------------------------------------------------------------------------------
# Unicode-edge (informational)
# ----------------------------------------------------------------------------------------------

def edge_cases(g, rng):
    by_age = {}
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        a = age(cp)
        if a is None or a <= 9.0:
            continue
        by_age.setdefault(a, []).append(cp)
    chosen = []
    per = max(1, 200 // max(1, len(by_age)))
    for a in sorted(by_age):
        cps = by_age[a]
        # mix: marks / letters / digits / symbols
        groups = {}
        for cp in cps:
            groups.setdefault(ud.category(chr(cp))[0], []).append(cp)
        picks = []
        for cat in sorted(groups):
            picks += rng.sample(groups[cat], min(len(groups[cat]), 3))
        rest = [cp for cp in cps if cp not in set(picks)]
        picks += rng.sample(rest, max(0, min(len(rest), per - len(picks))))
        chosen += sorted(picks)
    # known interesting ones
    known = [0x11938, 0x1F92F, 0x1FA75, 0x1F9D1, 0x1F97A, 0x0898, 0x1DFA, 0x1DF9, 0x0D04, 0x0C80, 0x20C0, 0x31350,
             0x2B820, 0x1E4EC, 0x11F00, 0x0CF3]
    for cp in known:
        if cp not in chosen and age(cp) is not None and age(cp) > 9.0:
            chosen.append(cp)
    out = []
    for cp in chosen:
        c = chr(cp)
        meta = {"strict": False, "codepoint": "U+%04X" % cp, "age": "%.1f" % age(cp), "category": ud.category(c)}
        for tname, t in [("a_b", "a%sb"), ("mark", "%s\u0301"), ("space", " %s"), ("double", "%s%s"), ("x1", "x%s1")]:
            text = t.replace("%s", c)
            r = g.case("unicode-edge", "unicode-edge/U+%04X %s" % (cp, tname), text, **meta)
            r["python_nfc"] = ud.normalize("NFC", text)
            out.append(r)
    # compositions that only newer tables know
    extra = [("dives akuru 11935+11930", "\U00011935\U00011930"), ("nfd of U+11938", ud.normalize("NFD", "\U00011938")),
             ("reorder with 10.0 mark", "x\u0301\u1DF9"), ("reorder with 14.0 mark", "x\u0898\u0316")]
    for n, text in extra:
        r = g.case("unicode-edge", "unicode-edge/" + n, text, strict=False, codepoint=None, age=None, category=None)
        r["python_nfc"] = ud.normalize("NFC", text)
        out.append(r)
    return out


# ----------------------------------------------------------------------------------------------

def check_nfc_version(g):
    """Confirm that HF's NFC is Unicode 9.0: agrees with Python on every <= 9.0 char (singly and NFD'd),
    and disagrees on some later mark."""
    bad_old, bad_new = 0, 0
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        a = age(cp)
        if a is None:
            continue
        c = chr(cp)
        cc = ud.combining(c)
        tests = [c, ud.normalize("NFD", c)]
        if cc:
            tests.append(("x\u0301" + c) if cc < 230 else ("x" + c + "\u0316"))
        for s in tests:
            if g.norm.normalize_str(s) != ud.normalize("NFC", s):
                if a <= 9.0:
                    bad_old += 1
                else:
                    bad_new += 1
    return bad_old, bad_new


def versions():
    v = {"python": platform.python_version(), "unicodedata": ud.unidata_version}
    for p in ["tokenizers", "tiktoken", "quicktok-v1", "gigatoken", "fastokens", "numpy", "zstandard"]:
        try:
            v[p] = importlib.metadata.version(p)
        except importlib.metadata.PackageNotFoundError:
            pass
    return v


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    tok, tok_sha = load_tokenizer()
    g = Golden(tok)
    os.makedirs(OUT, exist_ok=True)
    print("age table:", AGE_SOURCE)
    bad_old, bad_new = check_nfc_version(g)
    print("NFC check: HF vs Python disagreements: <=9.0: %d, >9.0: %d" % (bad_old, bad_new))
    assert bad_old == 0, "HF NFC disagrees with Python NFC on characters assigned by Unicode 9.0"

    # 1. hand-written
    rng = random.Random(SEED)
    cases = []
    for name, text in hand_written_cases(rng):
        bad = [hex(ord(c)) for c in text if not is_strict_cp(ord(c))]
        assert not bad, (name, bad)
        cases.append(g.case("cases", name, text))
    write_jsonl(os.path.join(OUT, "cases.jsonl"), cases)

    # 2. random
    rng = random.Random(SEED + 1)
    pools = build_pools()
    block_names = [b for b, _, _ in BLOCKS]
    rand = []
    for i in range(N_RANDOM):
        text = random_string(rng, pools, block_names)
        assert strict_text(text)
        rand.append(g.case("random", "random/%d" % i, text))
    write_jsonl(os.path.join(OUT, "random.jsonl"), rand)

    # 3. decode
    rng = random.Random(SEED + 2)
    dec, npartial = decode_cases(g, rng)
    write_jsonl(os.path.join(OUT, "decode.jsonl"), dec)

    # 4. unicode-edge
    rng = random.Random(SEED + 3)
    edge = edge_cases(g, rng)
    write_jsonl(os.path.join(OUT, "unicode-edge.jsonl"), edge)

    files = ["cases.jsonl", "random.jsonl", "decode.jsonl", "unicode-edge.jsonl"]
    sizes = {f: os.path.getsize(os.path.join(OUT, f)) for f in files}
    total = sum(sizes.values())
    n_fffd = sum(1 for r in dec if "\ufffd" in r["text"])
    stats = {
        "cases": len(cases), "random": len(rand), "decode": len(dec), "decode_with_fffd": n_fffd,
        "unicode_edge": len(edge), "partial_utf8_tokens": npartial, "nfc_probe_diffs_after_9": bad_new,
        "roundtrip_failures": [(f, n) for f, n, *_ in g.roundtrip_failures],
        "hf_vs_python_nfc_diffs": g.python_nfc_diffs,
        "segmentwise_vs_whole_string_nfc_diffs": g.whole_string_nfc_diffs,
    }
    write_readme(sizes, stats, tok_sha)
    print(json.dumps({k: v for k, v in stats.items()}, indent=1, ensure_ascii=False))
    print("sizes:", sizes, "total:", total)
    assert total < MAX_TOTAL_BYTES + 512 * 1024, "golden data too large"
    strict_fail = [x for x in g.roundtrip_failures if x[0] != "unicode-edge"]
    if strict_fail:
        for f, n, t, nfc, d in strict_fail[:20]:
            print("ROUNDTRIP FAIL", f, n, ascii(t)[:200], ascii(nfc)[:200], ascii(d)[:200])
        return 1
    return 0


README_TEMPLATE = """# Qwen2 tokenizer golden data

Made by `Fixtures/scripts/make_tokenizer_goldens.py` from `Fixtures/tokenizers/qwen2/tokenizer.json.zst`
with Hugging Face `tokenizers`. Regenerate (from the repository root, deterministic):

    python3 Fixtures/scripts/make_tokenizer_goldens.py

All files are pure JSONL (one JSON object per line, no header line, UTF-8, `\\n` line ends). Characters of
Unicode categories C* and Z* other than U+0020 (controls, format characters, line/paragraph separators,
no-break and other spaces, private use, noncharacters) and all code points assigned after Unicode 9.0 are
written as `\\uXXXX` escapes (surrogate pairs above the BMP), so a reader can split the files on `\\n` with
any API.

## Files

| file | lines | what |
|---|---|---|
| `cases.jsonl` | {n_cases} | hand-written cases: `{{"name": "<category>/<description>", "text", "ids", "nfc"}}` |
| `random.jsonl` | {n_random} | random mixed-script strings, 0-300 chars: `{{"name": "random/N", "text", "ids", "nfc"}}` |
| `decode.jsonl` | {n_decode} | id sequences: `{{"name", "ids", "text", "text_skip_special"}}`; {n_fffd} of them decode to text with U+FFFD |
| `unicode-edge.jsonl` | {n_edge} | characters assigned after Unicode 9.0, informational: `{{"name", "text", "ids", "nfc", "strict": false, "codepoint", "age", "category", "python_nfc"}}` |

- `ids` = `Tokenizer.encode(text, add_special_tokens=False).ids`.
- `nfc` = the text after HF's added-token split and NFC normalizer: the added tokens `<|endoftext|>`,
  `<|im_start|>`, `<|im_end|>` are cut out first, and each remaining segment is normalized separately with
  `tok.normalizer.normalize_str`. This matters: `"<|im_end|>\\u0338"` keeps its U+0338 (ids
  `[151645, 136, 116]`), while normalizing the whole string would compose `">\\u0338"` into U+226F.
  Invariant (checked for every line): `tok.decode(ids, skip_special_tokens=False) == nfc`.
- `text` = `tok.decode(ids, skip_special_tokens=False)`, `text_skip_special` = `tok.decode(ids,
  skip_special_tokens=True)`. Invalid UTF-8 is replaced by U+FFFD per maximal invalid subpart
  (Rust `String::from_utf8_lossy`). Special tokens decode as their literal text, and their bytes take part in the
  same UTF-8 decoding as the neighbouring byte-level tokens (so a special token between the bytes of a
  split character leaves U+FFFD on both sides, e.g. ids `[127, 151643, 102]` give `"\\ufffd<|endoftext|>\\ufffd"`;
  with `skip_special_tokens=True` the special id is dropped first, so the bytes rejoin into `"\\u00e9"`).
- `cases.jsonl` and `random.jsonl` use only code points assigned by Unicode 9.0 (noncharacters and private
  use included, surrogates excluded): qwenkit must match every line exactly. HF's NFC tables are Unicode 9.0
  (the script verifies this: HF's normalizer agrees with Python's `unicodedata` NFC on every code point
  assigned up to 9.0, singly, NFD-decomposed and after a reordering probe, and disagrees on {n_new_diffs} probes
  of later characters, e.g. it does not compose Dives Akuru U+11935 U+11930 into U+11938 (13.0) and gives
  combining marks added after 9.0 combining class 0). `unicode-edge.jsonl` records HF's behaviour for later
  characters (`python_nfc` is Python {unidata}'s NFC, for comparison); a divergence there is not necessarily a bug.
- Ages come from {age_source} (Unicode's DerivedAge data as shipped with Debian's perl).

## Case categories (cases.jsonl)

{categories}

## Versions

{versions}

tokenizer.json (decompressed) sha256: `{tok_sha}`

## sha256

{shas}
"""


def write_readme(sizes, stats, tok_sha):
    cats = {}
    with open(os.path.join(OUT, "cases.jsonl"), encoding="utf-8") as f:
        for line in f:
            c = json.loads(line)["name"].split("/")[0]
            cats[c] = cats.get(c, 0) + 1
    categories = ", ".join("`%s` %d" % (k, v) for k, v in cats.items())
    vers = "\n".join("- %s %s" % (k, v) for k, v in versions().items())
    shas = "\n".join("- `%s` %d bytes, `%s`" % (f, sizes[f], sha256(os.path.join(OUT, f))) for f in sizes)
    text = README_TEMPLATE.format(
        n_cases=stats["cases"], n_random=stats["random"], n_decode=stats["decode"], n_fffd=stats["decode_with_fffd"],
        n_edge=stats["unicode_edge"], n_new_diffs=stats["nfc_probe_diffs_after_9"], unidata=ud.unidata_version,
        age_source="`%s`" % AGE_SOURCE, categories=categories, versions=vers, tok_sha=tok_sha, shas=shas)
    with open(os.path.join(OUT, "README.md"), "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    sys.exit(main())
