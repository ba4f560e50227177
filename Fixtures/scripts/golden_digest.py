"""The generator and digest the goldens share with the Swift tests that repeat them: a 64-bit LCG (Knuth's MMIX
constants, the top 31 bits out) for deterministic content, and FNV-1a 64 over bytes for compact expected values."""

MASK = (1 << 64) - 1


def lcg(seed):
    """An endless stream of 31-bit values from `seed`."""
    x = seed
    while True:
        x = (x * 6364136223846793005 + 1442695040888963407) & MASK
        yield x >> 33


def fnv1a64(data):
    """FNV-1a 64 of a bytes-like object."""
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & MASK
    return h
