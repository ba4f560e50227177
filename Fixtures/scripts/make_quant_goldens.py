#!/usr/bin/env python3
"""Makes Fixtures/quant-golden/: float32 rows of many kinds and what ggml's reference code makes of them.

Two references, cross-checked wherever both exist:
  - gguf-py (pip install gguf; made with 0.19.0): `gguf.quants.quantize` for F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1,
    Q8_0 and `gguf.quants.dequantize` for every block type but Q8_K;
  - ggml itself (libggml-base.so, as built by llama-cpp-python; made with the one vendored in 0.3.36, ggml 0.25.3),
    called with ctypes: `ggml_quantize_chunk(type, src, dst, 0, nrows, n_per_row, imatrix=NULL)`, which runs the
    `quantize_row_*_ref` quantizers, `quantize_row_q8_K_ref` (Q8_K is not in ggml_quantize_chunk), the
    `dequantize_row_*` functions and ggml's own fp16/bf16 row conversions.
Where gguf-py has the answer it is written, after checking that ggml gives the same bytes; a disagreement stops the
script. The K-quant quantizations, Q8_K and the fp16/bf16 conversions come from ggml alone. Without the library the
script writes the gguf-py goldens only and says which files are pending.

Files (all little-endian; "cases" = the rows listed in cases.tsv, in order, each type taking the rows whose length is
a multiple of its block size):
  inputs.f32                     every case row, concatenated
  cases.tsv                      name, offset and count (in floats) of each case, and what it is
  TYPE.quant                     the quantized cases
  TYPE.dequant.f32.zst           TYPE.quant dequantized (float32, zstd)
  TYPE.random.quant              random valid blocks (finite scales), for dequantization only
  TYPE.random.dequant.f32.zst    those dequantized
  specials.f32                   fp32 values of every special class (zeros, subnormals, ties, overflow, NaNs) and
                                 random values over the fp16 range
  F16.specials.quant, BF16.specials.quant    their conversions by ggml (ggml_quantize_chunk, F16 and BF16)
  F16.specials.numpy, BF16.specials.numpy    the same by gguf-py (numpy astype(float16); numpy bit operations
                                 for bf16): equal to ggml's except for some NaN payloads
  halfs.u16                      16-bit patterns at every class edge, plus random ones
  F16.halfs.dequant.f32, BF16.halfs.dequant.f32    those patterns widened by ggml

Run from the repository root:
  python3 Fixtures/scripts/make_quant_goldens.py [--ggml-lib PATH/libggml-base.so]
then paste the printed hashes into Fixtures/quant-golden/README.md (the script rewrites that file's hash block).
"""
import argparse
import ctypes
import glob
import hashlib
import importlib.metadata
import os
import sys

import numpy as np
import zstandard

import gguf
from gguf import GGMLQuantizationType as Q

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "quant-golden")

# ggml type ids (ggml.h); gguf-py's enum has the same numbers.
LEGACY = [Q.Q4_0, Q.Q4_1, Q.Q5_0, Q.Q5_1, Q.Q8_0]
KQUANTS = [Q.Q2_K, Q.Q3_K, Q.Q4_K, Q.Q5_K, Q.Q6_K]
Q8_K_ID = 15
BLOCK = {**{t: gguf.GGML_QUANT_SIZES[t][0] for t in LEGACY + KQUANTS}, Q8_K_ID: 256}
TYPE_SIZE = {**{t: gguf.GGML_QUANT_SIZES[t][1] for t in LEGACY + KQUANTS}, Q8_K_ID: 292}
NAME = {**{t: t.name for t in LEGACY + KQUANTS}, Q8_K_ID: "Q8_K"}


# ---------------------------------------------------------------------------------------------------------------
# Inputs

def make_cases():
    """(name, description, float32 row). Lengths are multiples of 32; all but weights_896 are multiples of 256."""
    rng = np.random.default_rng(20250501)
    f = np.float32
    cases = []

    def add(name, what, row):
        cases.append((name, what, np.ascontiguousarray(row, dtype=np.float32)))

    add("zeros", "all +0.0", np.zeros(256))
    add("constant_pos", "every element 0.37", np.full(256, 0.37))
    add("constant_neg", "every element -2.5", np.full(256, -2.5))
    add("tiny", "N(0,1) * 1e-30: scales underflow fp16; K-quant groups fall under GROUP_MAX_EPS",
        rng.standard_normal(256) * 1e-30)
    add("small", "N(0,1) * 1e-6: legacy fp16 scales round to subnormals or zero",
        rng.standard_normal(256) * 1e-6)
    bits = rng.integers(1, 0x800000, 256, dtype=np.uint32) | (rng.integers(0, 2, 256, dtype=np.uint32) << 31)
    add("subnormal", "random float32 subnormals, both signs: 1/d overflows to inf", bits.view(np.float32))
    add("huge", "N(0,1) * 1e30: fp16 scales overflow to inf; K-quant sums of squares overflow",
        rng.standard_normal(256) * 1e30)
    add("fp16_overflow", "U(-1e7, 1e7): the fp16 scale is inf while the float32 one is finite",
        rng.uniform(-1e7, 1e7, 256))
    # Halfway points for every rounding rule: with -8 (or 8) leading each 32-block, Q4_0's id is exactly 1 and
    # Q8_0's 127/8; with integers and half-integers nearby the truncating and half-even rules part ways.
    ties = (rng.integers(-16, 17, 256) / 2.0).astype(f)
    ties[0::32] = -8.0
    ties[16::32] = 8.0
    add("ties", "half-integers in [-8, 8] with -8 and 8 in every 32-block: exact halfway cases", ties)
    add("normal", "N(0,1)", rng.standard_normal(512))
    add("uniform", "U(-1,1)", rng.uniform(-1, 1, 512))
    add("heavy_tailed", "Student t with 1.5 degrees of freedom (large outliers)", rng.standard_t(1.5, 512))
    spikes = rng.standard_normal(256) * 0.01
    spikes[rng.integers(0, 32, 8) + np.arange(0, 256, 32)] = 10.0 * rng.choice([-1.0, 1.0], 8)
    add("outliers", "N(0,0.01) with one +-10 spike in every 32-block", spikes)
    add("positive", "U(0.5, 1.5): the minimum is positive", rng.uniform(0.5, 1.5, 256))
    add("negative", "U(-1.5, -0.5): the maximum is negative", rng.uniform(-1.5, -0.5, 256))
    add("ramp", "linspace(-1, 1, 256)", np.linspace(-1, 1, 256))
    sparse = rng.standard_normal(256) * 0.1
    sparse[16:48] = 0.0        # whole 16- and 32-groups of zeros inside a non-zero super-block
    sparse[128:144] = 0.0
    sparse[200:256:3] = 0.0
    add("sparse", "N(0,0.1) with whole zero sub-blocks (16 and 32 long) and scattered zeros", sparse)
    add("weights_896", "N(0,0.02), a Qwen2-0.5B hidden-size row (not a multiple of 256)",
        rng.standard_normal(896) * 0.02)
    add("weights_4864", "N(0,0.02), a Qwen2-0.5B intermediate-size row (19 super-blocks)",
        rng.standard_normal(4864) * 0.02)
    return cases


def make_specials():
    """fp32 values of every class that fp16 and bf16 conversion treat differently."""
    u = []
    u += [0x00000000, 0x80000000]                                     # +-0
    u += [0x00000001, 0x80000001, 0x007FFFFF, 0x807FFFFF, 0x00400000]  # fp32 subnormals
    u += [0x00800000, 0x80800000]                                     # smallest normals
    u += [0x7F7FFFFF, 0xFF7FFFFF]                                     # largest finite (bf16 rounds to inf)
    u += [0x7F800000, 0xFF800000]                                     # +-inf
    u += [0x7FC00000, 0xFFC00000, 0x7FC00001, 0x7FFFFFFF, 0xFFFFFFFF]  # quiet NaNs, with payloads
    u += [0x7F800001, 0xFF800001, 0x7FA00000, 0x7F802000, 0x7F800100]  # signaling NaNs
    for v in [1.0, -1.0, 0.1, -0.1, 1.0 / 3.0, 65504.0, -65504.0, 65519.0, 65519.996, 65520.0, -65520.0,
              1e5, 1e-5, 6.103515625e-05, 6.0975552e-05, 5.9604645e-08, 2.9802322e-08, 2.9802326e-08,
              1.7881393e-07, 8.940697e-08, 1e-8, 1e-10, 3.0e-8, 1.0e38, -3.4e38]:
        u.append(int(np.float32(v).view(np.uint32)))
    # fp16 ties: 1 + k*2^-11 sits halfway between two halfs for odd k (even and odd neighbours).
    for k in [1, 3, 5, 2047]:
        u.append(int(np.float32(1.0 + k * 2.0 ** -11).view(np.uint32)))
    # fp16 subnormal ties: (2k+1) * 2^-25.
    for k in [0, 1, 2, 511, 1022]:
        u.append(int(np.float32((2 * k + 1) * 2.0 ** -25).view(np.uint32)))
    # bf16 ties and near-ties: low 16 bits 0x8000 with even and odd upper halves, 0x7FFF, 0x8001.
    for hi in [0x3F80, 0x3F81, 0xBF80, 0xBF81, 0x7F7F, 0x0000, 0x0001]:
        for lo in [0x7FFF, 0x8000, 0x8001, 0xFFFF]:
            u.append((hi << 16) | lo)
    rng = np.random.default_rng(7)
    u += [int(x) for x in rng.integers(0, 2 ** 32, 256, dtype=np.uint64)]   # random patterns, NaNs included
    # Random values over the whole fp16 range and beyond, every binade from 2^-30 to 2^20, both signs.
    mags = np.exp2(rng.uniform(-30, 20, 768)) * rng.choice([-1.0, 1.0], 768)
    u += [int(x) for x in mags.astype(np.float32).view(np.uint32)]
    return np.array(u, dtype=np.uint32).view(np.float32)


def make_half_patterns():
    """16-bit patterns to widen: every class at its edges (zeros, subnormals, normals, inf, every fp16 NaN
    payload boundary, signaling and quiet), both signs, plus random ones."""
    p = set()
    for base in (0x0000, 0x8000):
        for v in list(range(0, 0x20)) + list(range(0x3E0, 0x420)) + [0x3C00, 0x3BFF, 0x3C01, 0x7BFF, 0x7BFE]:
            p.add(base | v)
        for v in list(range(0x7C00, 0x7C20)) + list(range(0x7DF0, 0x7E10)) + list(range(0x7FF0, 0x8000)):
            p.add(base | v)
        for v in [0x7F80, 0x7F81, 0x7FA0, 0x7FC0, 0x7FC1, 0x7F7F, 0x0080, 0x007F]:
            p.add(base | v)        # bf16 inf/NaN/edge patterns
    rng = np.random.default_rng(11)
    p.update(int(x) for x in rng.integers(0, 65536, 512))
    return np.array(sorted(p), dtype=np.uint16)


# ---------------------------------------------------------------------------------------------------------------
# ggml through ctypes

class GGML:
    def __init__(self, path):
        self.path = path
        lib = ctypes.CDLL(path)
        self.lib = lib
        lib.ggml_version.restype = ctypes.c_char_p
        lib.ggml_commit.restype = ctypes.c_char_p
        lib.ggml_quantize_chunk.restype = ctypes.c_size_t
        lib.ggml_quantize_chunk.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64,
                                            ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p]
        for name in ["quantize_row_q8_K_ref"] + [f"dequantize_row_{n.lower()}" for n in
                                                 ["Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0"]] \
                + [f"dequantize_row_{n[0].lower()}{n[1]}_K" for n in ["Q2", "Q3", "Q4", "Q5", "Q6", "Q8"]] \
                + ["ggml_fp16_to_fp32_row", "ggml_bf16_to_fp32_row"]:
            fn = getattr(lib, name)
            fn.restype = None
            fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
        self.version = lib.ggml_version().decode()
        self.commit = lib.ggml_commit().decode()

    def quantize(self, type_id, row, type_size, block):
        """One row through ggml_quantize_chunk (or quantize_row_q8_K_ref); dst starts zeroed."""
        row = np.ascontiguousarray(row, dtype=np.float32)
        n = row.size
        dst = np.zeros(n // block * type_size, dtype=np.uint8)
        if type_id == Q8_K_ID:
            self.lib.quantize_row_q8_K_ref(row.ctypes.data, dst.ctypes.data, n)
        else:
            written = self.lib.ggml_quantize_chunk(type_id, row.ctypes.data, dst.ctypes.data, 0, 1, n, None)
            assert written == dst.size, (type_id, written, dst.size)
        return dst

    def dequantize(self, type_id, data, n):
        fn = {Q.F16: "ggml_fp16_to_fp32_row", Q.BF16: "ggml_bf16_to_fp32_row"}.get(type_id)
        if fn is None:
            name = NAME[type_id]
            fn = f"dequantize_row_{name.lower()}" if name[-1] != "K" else f"dequantize_row_{name[0].lower()}{name[1]}_K"
        data = np.ascontiguousarray(data, dtype=np.uint8)
        out = np.zeros(n, dtype=np.float32)
        getattr(self.lib, fn)(data.ctypes.data, out.ctypes.data, n)
        return out


def ggml_from(args):
    if args.ggml_from:
        return args.ggml_from
    try:
        return "llama-cpp-python " + importlib.metadata.version("llama_cpp_python")
    except importlib.metadata.PackageNotFoundError:
        return "an unnamed build (pass --ggml-from)"


def find_ggml(explicit):
    if explicit:
        return explicit
    env = os.environ.get("GGML_LIB")
    if env:
        return env
    try:
        import llama_cpp  # noqa: F401  (only to locate its lib/ folder)
        libdir = os.path.join(os.path.dirname(llama_cpp.__file__), "lib")
        for pattern in ["libggml-base.so", "libggml-base.so.*", "libggml.so"]:
            hits = sorted(glob.glob(os.path.join(libdir, pattern)))
            if hits:
                return hits[0]
    except ImportError:
        pass
    return None


# ---------------------------------------------------------------------------------------------------------------
# Random valid blocks (dequantization goldens): random bytes with finite, moderate fp16 scales.

def random_blocks(type_id, count, rng):
    size = TYPE_SIZE[type_id]
    blocks = rng.integers(0, 256, (count, size), dtype=np.uint8)

    def halves(n):
        h = (rng.standard_normal(n) * 0.05).astype(np.float16)
        h[0] = np.float16(0.0)
        h[1] = np.float16(-0.0)
        h[2] = np.float16(6e-6)   # an fp16 subnormal
        h[3] = np.float16(-60000.0)
        return h.view(np.uint8).reshape(n, 2)

    name = NAME[type_id]
    if name in ("Q4_0", "Q5_0", "Q8_0"):
        blocks[:, 0:2] = halves(count)
    elif name in ("Q4_1", "Q5_1", "Q4_K", "Q5_K"):
        blocks[:, 0:2] = halves(count)
        blocks[:, 2:4] = halves(count)[::-1]
    elif name == "Q2_K":
        blocks[:, 80:82] = halves(count)
        blocks[:, 82:84] = halves(count)[::-1]
    elif name == "Q3_K":
        blocks[:, 108:110] = halves(count)
    elif name == "Q6_K":
        blocks[:, 208:210] = halves(count)
    elif name == "Q8_K":
        d = (rng.standard_normal(count) * 0.01).astype(np.float32)
        d[0] = 0.0
        blocks[:, 0:4] = d.view(np.uint8).reshape(count, 4)
    return blocks.reshape(-1)


# ---------------------------------------------------------------------------------------------------------------

def zstd_bytes(raw):
    return zstandard.ZstdCompressor(level=19).compress(raw)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ggml-lib", help="path to libggml-base.so (default: $GGML_LIB, then llama_cpp's lib/ folder)")
    ap.add_argument("--ggml-from", help="where that library came from, for the README (default: the installed "
                                        "llama-cpp-python's version)")
    args = ap.parse_args()

    path = find_ggml(args.ggml_lib)
    ggml = GGML(path) if path else None
    if ggml is None:
        print("ggml library not found: writing gguf-py goldens only", file=sys.stderr)

    os.makedirs(OUT, exist_ok=True)
    written = {}

    def write(name, raw):
        with open(os.path.join(OUT, name), "wb") as fh:
            fh.write(raw)
        written[name] = hashlib.sha256(raw).hexdigest()

    pending = []
    cases = make_cases()
    offset = 0
    rows = []
    lines = ["name\toffset\tcount\twhat"]
    for name, what, row in cases:
        lines.append(f"{name}\t{offset}\t{row.size}\t{what}")
        rows.append(row)
        offset += row.size
    write("inputs.f32", np.concatenate(rows).astype("<f4").tobytes())
    write("cases.tsv", ("\n".join(lines) + "\n").encode())

    disagreements = []
    rng = np.random.default_rng(4242)

    for t in LEGACY + KQUANTS + [Q8_K_ID]:
        name, block = NAME[t], BLOCK[t]
        if t in LEGACY or ggml:
            quant_parts = []
            for cname, _, row in cases:
                if row.size % block:
                    continue
                ours = None
                if t in LEGACY:
                    with np.errstate(all="ignore"):
                        ours = gguf.quants.quantize(row.reshape(1, -1), t).reshape(-1)
                ref = ggml.quantize(t, row, TYPE_SIZE[t], block) if ggml else None
                if ours is not None and ref is not None and not np.array_equal(ours, ref):
                    bad = np.nonzero(ours != ref)[0]
                    disagreements.append(f"{name} quantize {cname}: gguf-py and ggml differ in {bad.size} bytes, "
                                         f"first in block {bad[0] // TYPE_SIZE[t]}")
                quant_parts.append(ours if ours is not None else ref)
            quant = np.concatenate(quant_parts)
            write(f"{name}.quant", quant.tobytes())
            deq = dequantize(t, quant, ggml, disagreements, name)
            if deq is not None:
                write(f"{name}.dequant.f32.zst", zstd_bytes(deq))
            else:
                pending.append(f"{name}.dequant.f32.zst (needs ggml)")
        else:
            pending.append(f"{name}.quant, {name}.dequant.f32.zst (K-quant quantization needs ggml)")

        count = 32 if block == 32 else 8
        blocks = random_blocks(t, count, rng)
        deq = dequantize(t, blocks, ggml, disagreements, name + " random")
        if deq is None:
            pending.append(f"{name}.random.* (needs ggml)")
            continue
        write(f"{name}.random.quant", blocks.tobytes())
        write(f"{name}.random.dequant.f32.zst", zstd_bytes(deq))

    # Float conversions: fp32 -> fp16/bf16 of every special class, and 16-bit patterns widened back.
    specials = make_specials()
    write("specials.f32", specials.astype("<f4").tobytes())
    halfs = make_half_patterns()
    write("halfs.u16", halfs.astype("<u2").tobytes())
    numpy_notes = []
    if ggml:
        for t, tname in [(Q.F16, "F16"), (Q.BF16, "BF16")]:
            ref = ggml.quantize(t, specials, 2, 1)
            mine = np.ascontiguousarray(gguf.quants.quantize(specials, t)).view(np.uint8).reshape(-1)
            if not np.array_equal(ref, mine):
                r16, m16 = ref.view("<u2"), mine.view("<u2")
                bad = np.nonzero(r16 != m16)[0]
                if not np.isnan(specials[bad]).all():
                    disagreements.append(f"{tname}: gguf-py/numpy differ from ggml on a non-NaN input")
                numpy_notes.append(f"fp32 -> {tname}: numpy differs from ggml on {bad.size} of the NaN inputs, e.g. "
                                   + ", ".join(f"0x{int(specials.view(np.uint32)[i]):08X} -> ggml 0x{int(r16[i]):04X}"
                                               f" numpy 0x{int(m16[i]):04X}" for i in bad[:3]))
            write(f"{tname}.specials.quant", ref.tobytes())
            write(f"{tname}.specials.numpy", mine.tobytes())
            widened = ggml.dequantize(t, halfs.view(np.uint8), halfs.size)
            if t == Q.F16:
                np_widened = halfs.view(np.float16).astype(np.float32)
            else:
                np_widened = (halfs.astype(np.uint32) << 16).view(np.float32)
            diff = np.nonzero(widened.view(np.uint32) != np_widened.view(np.uint32))[0]
            if diff.size:
                if not np.isnan(np_widened[diff]).all():
                    disagreements.append(f"{tname} widening differs from numpy on a non-NaN pattern")
                numpy_notes.append(f"{tname} -> fp32: numpy differs from ggml on {diff.size} of the NaN patterns, e.g. "
                                   + ", ".join(f"0x{int(halfs[p]):04X} -> ggml 0x{int(widened.view(np.uint32)[p]):08X}"
                                               f" numpy 0x{int(np_widened.view(np.uint32)[p]):08X}" for p in diff[:3]))
            write(f"{tname}.halfs.dequant.f32", widened.astype("<f4").tobytes())
    else:
        pending.append("F16.*, BF16.* (need ggml)")

    if disagreements:
        for d in disagreements:
            print("DISAGREEMENT:", d, file=sys.stderr)
        sys.exit(1)

    versions = {
        "gguf": importlib.metadata.version("gguf"),
        "numpy": np.__version__,
        "zstandard": zstandard.__version__,
        "ggml": f"{ggml.version} (commit {ggml.commit}, {os.path.basename(ggml.path)} from {ggml_from(args)})"
                if ggml else "not available",
    }
    update_readme(written, versions, pending, numpy_notes)
    for name in sorted(written):
        print(f"{written[name]}  quant-golden/{name}")
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in written)
    print(f"{len(written)} files, {total} bytes", file=sys.stderr)
    for p in pending:
        print("PENDING:", p, file=sys.stderr)
    for n in numpy_notes:
        print("note:", n, file=sys.stderr)


def dequantize(t, data, ggml, disagreements, label):
    """gguf-py's dequantization (all types but Q8_K), checked against ggml's; ggml's alone for Q8_K."""
    block, size = BLOCK[t], TYPE_SIZE[t]
    n = data.size // size * block
    ref = ggml.dequantize(t, data, n) if ggml else None
    if t == Q8_K_ID:
        return None if ref is None else ref.astype("<f4").tobytes()
    with np.errstate(all="ignore"):
        ours = gguf.quants.dequantize(data.reshape(1, -1), t).reshape(-1).astype(np.float32)
    if ref is not None and not np.array_equal(ours.view(np.uint32), ref.view(np.uint32)):
        bad = np.nonzero(ours.view(np.uint32) != ref.view(np.uint32))[0]
        disagreements.append(f"{NAME[t]} dequantize {label}: gguf-py and ggml differ in {bad.size} floats, first at "
                             f"{bad[0]}: 0x{int(ours.view(np.uint32)[bad[0]]):08X} vs 0x{int(ref.view(np.uint32)[bad[0]]):08X}")
    return ours.astype("<f4").tobytes()


README_HEAD = "<!-- hashes and versions below are rewritten by make_quant_goldens.py -->"


def update_readme(written, versions, pending, numpy_notes):
    path = os.path.join(OUT, "README.md")
    text = open(path).read() if os.path.exists(path) else "# quant-golden\n\n" + README_HEAD + "\n"
    head = text.split(README_HEAD)[0]
    lines = [README_HEAD, "", "## Made with", ""]
    lines += [f"- {k} {v}" for k, v in versions.items()]
    lines += ["", "## Pending", ""]
    lines += [f"- {p}" for p in pending] if pending else ["- nothing: every golden above was made"]
    if numpy_notes:
        lines += ["", "## Where numpy and ggml differ (ggml's bytes are the golden)", ""]
        lines += [f"- {n}" for n in numpy_notes]
    lines += ["", "## Hashes (sha256)", "", "```"]
    lines += [f"{written[n]}  {n}" for n in sorted(written)]
    lines += ["```", ""]
    with open(path, "w") as fh:
        fh.write(head + "\n".join(lines))


if __name__ == "__main__":
    main()
