"""The tiny byte-level BPE vocabulary the model fixtures share (make_inspect_fixtures.py, make_convert_fixtures.py):
GPT-2's 256 byte tokens followed by 40 merges learned greedily from one sentence (most frequent pair, ties to the
larger pair), so that the vocabulary and merges look like Qwen2's in form and stay small."""

from byte_level import bytes_to_unicode


def byte_tokens_and_merges(size=296):
    """Returns (tokens, merges): `size` byte-level token strings (256 bytes, then merged pairs) and the merges
    ("left right") in rank order."""
    byte_token = bytes_to_unicode()
    tokens = [byte_token[b] for b in range(256)]
    text = "the quick brown fox jumps over the lazy dog and the cat sat on the mat then the end"
    merges = []
    words = [[byte_token[b] for b in (" " + w if i else w).encode()] for i, w in enumerate(text.split())]
    while len(tokens) < size:
        counts = {}
        for w in words:
            for a, b in zip(w, w[1:]):
                counts[(a, b)] = counts.get((a, b), 0) + 1
        if not counts:
            break
        (a, b), _ = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
        merges.append(f"{a} {b}")
        tokens.append(a + b)
        for w in words:
            i = 0
            while i < len(w) - 1:
                if w[i] == a and w[i + 1] == b:
                    w[i:i + 2] = [a + b]
                i += 1
    return tokens, merges
