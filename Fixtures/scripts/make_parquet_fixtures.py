#!/usr/bin/env python3
"""Golden parquet files for the Parquet target, written by pyarrow, and the rows each must read back as.

    python3 Fixtures/scripts/make_parquet_fixtures.py    # writes Fixtures/parquet/

One table of 180 rows (made by a 64-bit LCG, so it depends on nothing but this script) is written sixteen times,
once per combination of
    codec        none, snappy, gzip, zstd
    data pages   v1, v2                       (data_page_version "1.0" / "2.0")
    dictionary   dict, plain                  (use_dictionary)
as `table.<codec>.<v1|v2>.<dict|plain>.parquet`, each with row groups of 70 rows (3 groups: 70, 70, 40) and data pages of at
most 512 bytes and 16 rows (at least 5 pages per column chunk). Its columns, in schema order:
    text   string, nullable: ASCII, empty strings, nulls, CJK, emoji, Cyrillic, combining marks, quotes,
           backslashes, control characters, three 1-5 KB strings that span pages
    title  string, not nullable (a REQUIRED column)
    blob   binary (no string annotation), nullable, arbitrary bytes (invalid UTF-8 too)
    tags   list<string>                        nested: a reader of flat columns must skip it
    i8     int8   (INT32 annotated INT(8, true))
    i32    int32, nullable, extremes
    i64    int64, nullable, extremes
    u32    uint32 (INT32 annotated unsigned), values >= 2^31
    u64    uint64 (INT64 annotated unsigned), values >= 2^63
    f32    float32, nullable: NaN, infinities, -0.0, subnormals
    f64    float64, likewise
    flag   bool, nullable (RLE-encoded in v2 pages)
    meta   struct<a: int32, b: string>           nested: skipped
    label  string, nullable, few distinct values (dictionary-friendly), with quotes and control characters
Plus:
    fallback.parquet      the table, snappy, v1, dictionary limited to 300 bytes: each chunk has a dictionary page,
                          RLE_DICTIONARY pages, then PLAIN pages once the dictionary is full
    page-index.parquet    the table, zstd, v2, dictionary, at most 9 rows per page, with page indexes, page CRCs
                          and a bloom filter on `text` written between the chunks
    large-string.parquet  rows "short", a 150,000-byte string (a 4 KiB block of words repeated with variations, so
                          it stays small), null, "", a 120,000-byte string; zstd, v2, no dictionary
    empty.parquet         the table's schema, no rows

Expected rows:
    table.expected.jsonl         one line per row of the table, exactly the JSON the test renders:
        {"row":N,"text":T,"title":S,"blob":B,"i8":...,"label":S}
      strings as json.dumps(ensure_ascii=False) writes them (QwenKitIO's JSONString writes the same bytes);
      a string longer than 1,000 bytes as {"bytes":N,"fnv1a64":"<hex>"} (FNV-1a 64 of its UTF-8); blob as
      "hex:<bytes>"; floats as "f32:<bits, 8 hex digits>" / "f64:<bits, 16 hex digits>" (the test checks the bits;
      how a float is written as JSON is the reader's choice, tested on its own); null as null; integers and
      booleans as JSON writes them.
    large-string.expected.jsonl  the same for large-string.parquet ({"row":N,"text":T}).

Made with pyarrow 26.0.1 (Parquet C++ writer), CPython 3.11.7.
"""
import json
import math
import pathlib
import struct

import pyarrow as pa
import pyarrow.parquet as pq
from golden_digest import fnv1a64, lcg

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "Fixtures" / "parquet"
ROWS = 180
LONG = 1000




WORDS = ["the", "model", "token", "Qwen", "parquet", "row", "group", "page", "漢字", "かな", "한국어", "😀", "naïve",
         "Привет", "e\u0301", "tab\there", 'say "hi"', "back\\slash", "new\nline", "\x01ctl", ""]


def table():
    g = lcg(20261206)
    n = lambda k: next(g) % k
    text, title, blob, tags, i8, i32, i64, u32, u64, f32, f64, flag, meta, label = ([] for _ in range(14))
    f32_specials = [float("nan"), float("inf"), float("-inf"), -0.0, 0.0, 1e-45, 3.4028234663852886e38, 0.1, 1.5]
    f64_specials = [float("nan"), float("inf"), float("-inf"), -0.0, 5e-324, 1.7976931348623157e308, 0.1, 1e16,
                    9007199254740993.0, 1e-5]
    i32_extremes = [-(2**31), 2**31 - 1, 0, -1]
    i64_extremes = [-(2**63), 2**63 - 1, 2**53 + 1, -1]
    labels = ["alpha", "beta", 'q"uote', "tab\t", "ctl\x1f", "ü"]
    for r in range(ROWS):
        if r % 11 == 3:
            text.append(None)
        elif r % 17 == 5:
            text.append("")
        elif r in (68, 69, 142):
            text.append(" ".join(WORDS[n(len(WORDS))] for _ in range(200 + 200 * (r % 3))))
        else:
            text.append(" ".join(WORDS[n(len(WORDS))] for _ in range(1 + n(8))))
        title.append("title %d %s" % (r, WORDS[n(len(WORDS))]))
        blob.append(None if r % 13 == 0 else bytes(n(256) for _ in range(n(9))))
        tags.append(None if r % 7 == 0 else [WORDS[n(len(WORDS))] for _ in range(n(4))])
        i8.append(n(256) - 128)
        i32.append(None if r % 5 == 1 else i32_extremes[r % 4] if r % 9 == 0 else n(1 << 32) - (1 << 31))
        i64.append(None if r % 6 == 2 else i64_extremes[r % 4] if r % 10 == 0 else ((n(1 << 32) << 32) | n(1 << 32)) - (1 << 63))
        u32.append((1 << 31) + n(1 << 31))
        u64.append((1 << 63) + (n(1 << 31) << 32) + n(1 << 32))
        if r % 8 == 6:
            f32.append(None)
        elif r % 5 == 0:
            f32.append(f32_specials[(r // 5) % len(f32_specials)])
        else:
            f32.append(struct.unpack("<f", struct.pack("<I", n(0x7F000000)))[0])
        if r % 9 == 4:
            f64.append(None)
        elif r % 4 == 0:
            f64.append(f64_specials[(r // 4) % len(f64_specials)])
        else:
            f64.append(struct.unpack("<d", struct.pack("<Q", (n(0x7FE00000) << 32) | n(1 << 32)))[0])
        flag.append(None if r % 10 == 9 else bool(n(2)))
        meta.append(None if r % 12 == 0 else {"a": n(1000), "b": WORDS[n(len(WORDS))]})
        label.append(None if r % 14 == 13 else labels[n(len(labels))])
    return pa.table({
        "text": pa.array(text, pa.string()),
        "title": pa.array(title, pa.string()),
        "blob": pa.array(blob, pa.binary()),
        "tags": pa.array(tags, pa.list_(pa.string())),
        "i8": pa.array(i8, pa.int8()),
        "i32": pa.array(i32, pa.int32()),
        "i64": pa.array(i64, pa.int64()),
        "u32": pa.array(u32, pa.uint32()),
        "u64": pa.array(u64, pa.uint64()),
        "f32": pa.array(f32, pa.float32()),
        "f64": pa.array(f64, pa.float64()),
        "flag": pa.array(flag, pa.bool_()),
        "meta": pa.array(meta, pa.struct([("a", pa.int32()), ("b", pa.string())])),
        "label": pa.array(label, pa.string()),
    }).cast(pa.schema([
        pa.field("text", pa.string()), pa.field("title", pa.string(), nullable=False), pa.field("blob", pa.binary()),
        pa.field("tags", pa.list_(pa.string())), pa.field("i8", pa.int8()), pa.field("i32", pa.int32()),
        pa.field("i64", pa.int64()), pa.field("u32", pa.uint32()), pa.field("u64", pa.uint64()),
        pa.field("f32", pa.float32()), pa.field("f64", pa.float64()), pa.field("flag", pa.bool_()),
        pa.field("meta", pa.struct([("a", pa.int32()), ("b", pa.string())])), pa.field("label", pa.string()),
    ]))


def render_string(s):
    data = s.encode()
    if len(data) > LONG:
        return {"bytes": len(data), "fnv1a64": "%016x" % fnv1a64(data)}
    return s


def render(column, value):
    """One value as table.expected.jsonl writes it (see the docstring)."""
    if value is None:
        return None
    if column == "blob":
        return "hex:" + value.hex()
    if column == "f32":
        return "f32:%08x" % struct.unpack("<I", struct.pack("<f", value))[0]
    if column == "f64":
        return "f64:%016x" % struct.unpack("<Q", struct.pack("<d", value))[0]
    if column in ("text", "title", "label"):
        return render_string(value)
    return value


def expected_lines(t, columns):
    """Rows as read back by pyarrow itself, in the golden JSON form."""
    data = {c: t.column(c).to_pylist() for c in columns}
    lines = []
    for r in range(t.num_rows):
        row = {"row": r}
        for c in columns:
            row[c] = render(c, data[c][r])
        lines.append(json.dumps(row, ensure_ascii=False, separators=(",", ":")))
    return "".join(line + "\n" for line in lines)


FLAT = ["text", "title", "blob", "i8", "i32", "i64", "u32", "u64", "f32", "f64", "flag", "label"]


def large_text(g, size):
    block = " ".join(WORDS[next(g) % 14] for _ in range(900)).encode()[:4096]
    out = bytearray()
    while len(out) < size:
        out += block[: 1024 + next(g) % 3072] + b" %d\n" % len(out)
    text = out[:size].decode("utf-8", errors="ignore")  # the cut may split a character: dropped, then padded
    return text + "." * (size - len(text.encode()))


class Thrift:
    """Just enough of the Thrift compact protocol to walk page headers (for checking what the fixtures hold)."""

    def __init__(self, data, pos):
        self.data, self.pos = data, pos

    def varint(self):
        shift = value = 0
        while True:
            b = self.data[self.pos]
            self.pos += 1
            value |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                return value

    def zigzag(self):
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def skip(self, t):
        if t in (1, 2):
            return
        if t == 3:
            self.pos += 1
        elif t in (4, 5, 6):
            self.varint()
        elif t == 7:
            self.pos += 8
        elif t == 8:
            n = self.varint()
            self.pos += n
        elif t in (9, 10):
            h = self.data[self.pos]
            self.pos += 1
            n = h >> 4 if h >> 4 != 15 else self.varint()
            for _ in range(n):
                self.pos += 1 if h & 15 in (1, 2) else 0
                if h & 15 not in (1, 2):
                    self.skip(h & 15)
        elif t == 12:
            self.struct(lambda fid, ft: self.skip(ft))
        else:
            raise ValueError("type %d" % t)

    def struct(self, on_field):
        last = 0
        while True:
            h = self.data[self.pos]
            self.pos += 1
            if h == 0:
                return
            fid = last + (h >> 4) if h >> 4 else self.zigzag()
            last = fid
            on_field(fid, h & 15)


def page_kinds(path, row_group, column):
    """(page type, value encoding) of each page of a column chunk, e.g. ("DICTIONARY_PAGE", "PLAIN")."""
    meta = pq.ParquetFile(path).metadata.row_group(row_group).column(column)
    start = meta.dictionary_page_offset or meta.data_page_offset
    data = pathlib.Path(path).read_bytes()
    pos, end, kinds = start, start + meta.total_compressed_size, []
    types = {0: "DATA_PAGE", 1: "INDEX_PAGE", 2: "DICTIONARY_PAGE", 3: "DATA_PAGE_V2"}
    encodings = {0: "PLAIN", 2: "PLAIN_DICTIONARY", 3: "RLE", 8: "RLE_DICTIONARY"}
    while pos < end:
        r = Thrift(data, pos)
        header = {}

        def sub(fid, ft, key):
            if (key, fid) in (("5", 2), ("7", 2), ("8", 4)):
                header["encoding"] = r.zigzag()
            else:
                r.skip(ft)

        def top(fid, ft):
            if fid in (1, 3) and ft == 5:
                header[fid] = r.zigzag()
            elif fid in (5, 7, 8) and ft == 12:
                r.struct(lambda f, t: sub(f, t, str(fid)))
            else:
                r.skip(ft)

        r.struct(top)
        kinds.append((types[header[1]], encodings.get(header.get("encoding"), header.get("encoding"))))
        pos = r.pos + header[3]
    return kinds


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    t = table()
    # Arrow checks the page and dictionary sizes after each batch of write_batch_size rows.
    common = dict(row_group_size=70, data_page_size=512, max_rows_per_page=16, write_batch_size=10,
                  write_statistics=False)
    written = []
    for codec in ["none", "snappy", "gzip", "zstd"]:
        for version in ["v1", "v2"]:
            for dictionary in ["dict", "plain"]:
                name = "table.%s.%s.%s.parquet" % (codec, version, dictionary)
                pq.write_table(t, OUT / name, compression=codec, data_page_version=version[1] + ".0",
                               use_dictionary=dictionary == "dict", **common)
                written.append(name)
    pq.write_table(t, OUT / "fallback.parquet", compression="snappy", data_page_version="1.0",
                   use_dictionary=True, dictionary_pagesize_limit=300, **common)
    pq.write_table(t, OUT / "page-index.parquet", compression="zstd", data_page_version="2.0", use_dictionary=True,
                   write_page_index=True, write_page_checksum=True, bloom_filter_options={"text": {"ndv": 500, "fpp": 0.05}},
                   **{**common, "write_statistics": True, "max_rows_per_page": 9})
    written += ["fallback.parquet", "page-index.parquet"]

    g = lcg(77)
    large = pa.table({"text": pa.array(["short", large_text(g, 150_000), None, "", large_text(g, 120_000)])})
    pq.write_table(large, OUT / "large-string.parquet", compression="zstd", data_page_version="2.0",
                   use_dictionary=False)
    pq.write_table(t.slice(0, 0), OUT / "empty.parquet", compression="snappy")
    written += ["large-string.parquet", "empty.parquet"]

    # Every file must read back as the table (pyarrow's own reader; floats compared by bits, NaN included), and the
    # goldens come from what it reads.
    golden = expected_lines(t, FLAT)
    for name in written[:18]:
        back = pq.read_table(OUT / name)
        assert back.schema.equals(t.schema) and expected_lines(back, FLAT) == golden, name
    (OUT / "table.expected.jsonl").write_text(golden)
    # The fallback file's text chunks: a dictionary page, dictionary-encoded pages, then PLAIN ones.
    kinds = page_kinds(OUT / "fallback.parquet", 0, 0)
    assert kinds[0] == ("DICTIONARY_PAGE", "PLAIN") and ("DATA_PAGE", "RLE_DICTIONARY") in kinds, kinds
    assert kinds[-1] == ("DATA_PAGE", "PLAIN"), kinds
    for name in written[:16]:
        assert all(len(page_kinds(OUT / name, 0, c)) >= 5 for c in range(15)), name
    (OUT / "large-string.expected.jsonl").write_text(expected_lines(pq.read_table(OUT / "large-string.parquet"),
                                                                    ["text"]))
    total = 0
    for path in sorted(OUT.iterdir()):
        total += path.stat().st_size
        meta = pq.ParquetFile(path).metadata if path.suffix == ".parquet" else None
        detail = ""
        if meta is not None:
            detail = "%d row groups, %d rows" % (meta.num_row_groups, meta.num_rows)
        print("%8d  %-36s %s" % (path.stat().st_size, path.name, detail))
    print("%8d  total; pyarrow %s" % (total, pa.__version__))


if __name__ == "__main__":
    main()
