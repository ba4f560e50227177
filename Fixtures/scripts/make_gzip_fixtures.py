#!/usr/bin/env python3
"""Golden gzip streams for QwenKitIO's GzipDecompressingSource, written by Python's gzip module (mtime 0, so the
bytes depend only on the zlib version), and what each must decode to or fail with.

    python3 Fixtures/scripts/make_gzip_fixtures.py    # writes Fixtures/gzip/

Files:
  members.txt.gz      three members as `cat a.gz b.gz c.gz` makes them: text with a file name in its header, an
                      empty member, non-ASCII text at level 1
  members.txt         what members.txt.gz decodes to
  large.txt.gz        1.5 MiB of text from a 64-bit LCG (a 4 KiB block of words repeated with one varying word per
                      line, so deflate's 32 KiB window keeps it small: long matches, several deflate blocks)
  truncated.txt.gz    members.txt.gz cut inside the deflate data of its third member
  cut-header.txt.gz   members.txt.gz cut inside the second member's 10-byte header
  bad-crc.txt.gz      large.txt.gz with its CRC-32 trailer flipped
  bad-length.txt.gz   members.txt.gz with the first member's length trailer (ISIZE) changed
  not-gzip.txt.gz     plain text
  trailing.txt.gz     members.txt.gz followed by the bytes "junk"
  expected.tsv        per file: name, decoded byte count, FNV-1a 64 of the decoded bytes (hex), outcome:
                      `ok`, `truncated <compressed bytes> <decoded bytes>` or `corrupt <offset> <zlib's message>`

Outcomes come from Python's zlib (the same library our reader calls): decoded bytes are what a decompressobj
yields from the input before it fails or ends; a corrupt stream's offset is the number of compressed bytes consumed
when zlib noticed, found by feeding one byte at a time (zlib reports the same position for one large buffer:
its error exits return the bytes it did not use).
"""
import gzip
import io
import pathlib
import zlib
from golden_digest import fnv1a64, lcg

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "Fixtures" / "gzip"




def member(data, level=9, filename=""):
    buffer = io.BytesIO()
    with gzip.GzipFile(filename=filename, mode="wb", compresslevel=level, fileobj=buffer, mtime=0) as f:
        f.write(data)
    return buffer.getvalue()


def large_text():
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "qwen", "token", "漢字", "naïve"]
    g = lcg(20261206)
    block = " ".join(words[next(g) % len(words)] for _ in range(700)).encode()[:4096]
    out = bytearray()
    line = 0
    while len(out) < 3 * (1 << 19):
        out += block[: 64 + next(g) % 1024] + b" " + words[next(g) % len(words)].encode() + b" %d\n" % line
        line += 1
    return bytes(out[: 3 * (1 << 19)])


def outcome(data):
    """(decoded bytes, outcome string) of decoding `data` as concatenated gzip members, as our reader does."""
    decoded = bytearray()
    consumed = 0
    rest = data
    if not data:
        return b"", "truncated 0 0"
    while rest:
        d = zlib.decompressobj(31)
        used = 0
        try:
            for i in range(len(rest)):
                decoded += d.decompress(rest[i : i + 1])
                used = i + 1
                if d.eof:
                    break
        except zlib.error as e:
            # "Error -3 while decompressing data: incorrect header check" -> zlib's own message.
            message = str(e).split(": ", 1)[1]
            return bytes(decoded), "corrupt %d %s" % (consumed + used + 1, message)
        if not d.eof:
            return bytes(decoded), "truncated %d %d" % (len(data), len(decoded))
        consumed += used
        rest = rest[used:]
    return bytes(decoded), "ok"


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    a = "The first member, named in its header.\nA second line.\n".encode() * 3
    c = "Третий член: 漢字かな, emoji 😀, naïve café.\n".encode() * 4
    members = member(a, filename="a.txt") + member(b"") + member(c, level=1)
    first = len(member(a, filename="a.txt"))
    large = large_text()
    large_gz = member(large)

    files = {
        "members.txt.gz": members,
        "large.txt.gz": large_gz,
        "truncated.txt.gz": members[: len(members) - 30],
        "cut-header.txt.gz": members[: first + 5],
        "bad-crc.txt.gz": large_gz[:-8] + bytes(b ^ 0xFF for b in large_gz[-8:-4]) + large_gz[-4:],
        "bad-length.txt.gz": members[: first - 4] + (len(a) + 1).to_bytes(4, "little") + members[first:],
        "not-gzip.txt.gz": b"this is plain text, not gzip\n",
        "trailing.txt.gz": members + b"junk",
    }
    (OUT / "members.txt").write_bytes(a + c)
    rows = []
    for name, data in files.items():
        (OUT / name).write_bytes(data)
        decoded, result = outcome(data)
        if name == "members.txt.gz":
            assert decoded == a + c and gzip.decompress(data) == a + c
        if name == "large.txt.gz":
            assert decoded == large
        rows.append("%s\t%d\t%016x\t%s" % (name, len(decoded), fnv1a64(decoded), result))
    (OUT / "expected.tsv").write_text("\n".join(rows) + "\n")
    for name in ["members.txt"] + list(files) + ["expected.tsv"]:
        print("%8d  %s" % ((OUT / name).stat().st_size, name))
    print(zlib.ZLIB_RUNTIME_VERSION)


if __name__ == "__main__":
    main()
