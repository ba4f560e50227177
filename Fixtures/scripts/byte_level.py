"""GPT-2's byte-level alphabet, which Qwen2's tokenizer.json uses: each byte as one printable character."""


def bytes_to_unicode():
    """{byte: character}: printable Latin-1 bytes stand for themselves, the other 68 for U+0100 onwards."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\u00a1"), ord("\u00ac") + 1)) + list(range(ord("\u00ae"), ord("\u00ff") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))
