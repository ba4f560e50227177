#!/usr/bin/env python3
"""Counts, independently of the Swift code, the characters of Qwen2's vocabulary that may start BPE as their
token (Sources/QwenTokenizer/Model/CharacterStarts.swift explains the conditions), and how many have one
forbidden next or previous character. CharacterStartsTests expects these counts.

    python3 Fixtures/scripts/character_starts.py [--corpus FILE]   # with a corpus: the share of its
                                                                   # multi-byte characters that start whole
Needs `tokenizers` (only with --corpus) and `zstandard`.
"""
import argparse, collections, json, pathlib, zstandard

from byte_level import bytes_to_unicode

ROOT = pathlib.Path(__file__).resolve().parents[2]
INF = 1 << 40


def cont(b): return 0x80 <= b < 0xC0
def ascii_non_letter(b): return b < 0x80 and not (0x41 <= b <= 0x5A or 0x61 <= b <= 0x7A)


def whole_char(b):
    """The first character of b if b starts with a whole valid one, else None."""
    for n in range(1, 5):
        try:
            return b[:n].decode("utf-8") if len(b) >= n and len(b[:n].decode("utf-8")) == 1 else None
        except UnicodeDecodeError:
            continue
    return None


def last_char(b):
    for n in range(1, 5):
        if len(b) >= n:
            try:
                s = b[-n:].decode("utf-8")
                if len(s) == 1:
                    return s
            except UnicodeDecodeError:
                pass
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus")
    args = ap.parse_args()
    raw = zstandard.ZstdDecompressor().stream_reader((ROOT / "Fixtures/tokenizers/qwen2/tokenizer.json.zst").open("rb")).read()
    tj = json.loads(raw)
    dec = {c: b for b, c in bytes_to_unicode().items()}
    tb = lambda s: bytes(dec[c] for c in s)
    rank = {}
    for r, m in enumerate(tj["model"]["merges"]):
        a, b = m.split(" ") if isinstance(m, str) else m
        rank.setdefault((tb(a), tb(b)), r)
    by_left, by_right, lowest_use = collections.defaultdict(list), collections.defaultdict(list), {}
    for (a, b), r in rank.items():
        by_left[a].append((r, b))
        by_right[b].append((r, a))
        lowest_use[a] = min(lowest_use.get(a, INF), r)
        lowest_use[b] = min(lowest_use.get(b, INF), r)

    def alone(bts):
        """BPE of one character by itself: (parts, highest rank, partial left edges, partial right edges)."""
        parts, top, lefts, rights = [bytes([x]) for x in bts], -1, set(), set()
        while len(parts) > 1:
            lefts.add(parts[0])
            rights.add(parts[-1])
            best = min(((rank[(parts[i], parts[i + 1])], i) for i in range(len(parts) - 1) if (parts[i], parts[i + 1]) in rank), default=None)
            if best is None:
                break
            top = max(top, best[0])
            parts[best[1]:best[1] + 2] = [parts[best[1]] + parts[best[1] + 1]]
        return parts, top, lefts, rights

    table, kinds = {}, collections.Counter()
    for cp in range(0x80, 0x10000):
        if 0xD800 <= cp < 0xE000:
            continue
        parts, top, lefts, rights = alone(chr(cp).encode())
        if len(parts) != 1 or lowest_use.get(parts[0], INF) <= top:
            continue
        nexts, prevs, ok = set(), set(), True
        for x in rights:
            for r, y in by_left[x]:
                if r <= top and not cont(y[0]) and not ascii_non_letter(y[0]):
                    c = whole_char(y)
                    ok &= c is not None
                    nexts.add(c)
        for y in lefts:
            for r, x in by_right[y]:
                if r <= top and x[-1] < 0xC0 and not ascii_non_letter(x[-1]):
                    c = last_char(x)
                    ok &= c is not None
                    prevs.add(c)
        if ok and len(nexts) <= 1 and len(prevs) <= 1:
            table[cp] = (nexts, prevs)
            kinds[(len(nexts), len(prevs))] += 1
    cjk = sum(1 for cp in table if 0x4E00 <= cp <= 0x9FFF)
    print(f"marked {len(table)} (no forbidden neighbour {kinds[(0, 0)]}), CJK ideographs {cjk}; by (next, previous): {dict(kinds)}")
    if args.corpus:
        from tokenizers import Tokenizer
        tok = Tokenizer.from_str(raw.decode())
        total = whole = 0
        for line in open(args.corpus, encoding="utf-8"):
            for piece, _ in tok.pre_tokenizer.pre_tokenize_str(line):
                s = tb(piece).decode("utf-8", "replace")
                for i, ch in enumerate(s):
                    n = len(ch.encode())
                    if n == 1:
                        continue
                    total += n
                    entry = table.get(ord(ch))
                    before = s[i - 1] if i else None
                    after = s[i + 1] if i + 1 < len(s) else None
                    if entry is None or any(c is not None and ord(c) < 0x80 and not c.isalpha() for c in (before, after)):
                        continue
                    if after in entry[0] or before in entry[1]:
                        continue
                    whole += n
        print(f"{args.corpus}: {whole} of {total} bytes of multi-byte characters start whole ({100 * whole / max(total, 1):.0f}%)")


main()
