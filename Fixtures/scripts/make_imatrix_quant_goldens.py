#!/usr/bin/env python3
"""Makes Fixtures/quant-golden/imatrix/: what ggml's quantizers make of the rows in ../inputs.f32 (the cases of
make_quant_goldens.py) with an importance vector, and what the types added for `quantize --imatrix` (the IQ types,
TQ1_0/TQ2_0, Q1_0/Q2_0, MXFP4, NVFP4) make of them with and without one.

ggml (libggml-base.so built from llama-cpp-python 0.3.36's vendored llama.cpp; ggml 0.25.3) is called with ctypes:
`ggml_quantize_chunk(type, src, dst, 0, nrows, n_per_row, imatrix)`, which is what llama-quantize calls, and the
`dequantize_row_*` functions. ggml aborts on some inputs (GGML_ASSERT in a grid search): every call runs in a forked
child, and a case that aborts is listed in skipped.tsv instead of written.

Files (little-endian):
  importance.f32          one positive weight per element of ../inputs.f32, laid out as the cases are (exp(N(0,1))
                          scaled per case; the `sparse` case's weights are 0 where the row is 0, as an imatrix
                          column no token reached)
  matrix.f32              8 rows x 512 floats (N(0,1), each row its own scale), quantized as one 8-row call
  matrix.importance.f32   its 512 column weights
  TYPE.imatrix.quant      each case (length a multiple of the block) quantized with its importance, one row per call
  TYPE.matrix.imatrix.quant   the matrix with its importance
  TYPE.quant, TYPE.matrix.quant   the same without importance, for the new types ggml can make without one
  TYPE.dequant.f32.zst    TYPE.imatrix.quant dequantized by ggml (new types only)
  TYPE.valid              one byte per case written: ggml_validate_row_data's answer on TYPE.imatrix.quant
  skipped.tsv             type, variant, case, why (not a multiple of the block; ggml aborted)

Run from the repository root:
  python3 Fixtures/scripts/make_imatrix_quant_goldens.py --ggml-lib PATH/libggml-base.so
(build it with: cmake -S vendor/llama.cpp -B build-shared -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON
 -DGGML_NATIVE=OFF -DLLAMA_CURL=OFF && cmake --build build-shared --target ggml-base)
"""
import argparse
import ctypes
import hashlib
import os
import struct
import sys

import numpy as np
import zstandard

HERE = os.path.dirname(os.path.abspath(__file__))
BASE = os.path.join(HERE, "..", "quant-golden")
OUT = os.path.join(BASE, "imatrix")

# name: (ggml type id, dequantize function, new here)
TYPES = {
    "Q4_0": (2, "q4_0", False), "Q4_1": (3, "q4_1", False), "Q5_0": (6, "q5_0", False), "Q5_1": (7, "q5_1", False),
    "Q8_0": (8, "q8_0", False),
    "Q2_K": (10, "q2_K", False), "Q3_K": (11, "q3_K", False), "Q4_K": (12, "q4_K", False),
    "Q5_K": (13, "q5_K", False), "Q6_K": (14, "q6_K", False),
    "IQ2_XXS": (16, "iq2_xxs", True), "IQ2_XS": (17, "iq2_xs", True), "IQ3_XXS": (18, "iq3_xxs", True),
    "IQ1_S": (19, "iq1_s", True), "IQ4_NL": (20, "iq4_nl", True), "IQ3_S": (21, "iq3_s", True),
    "IQ2_S": (22, "iq2_s", True), "IQ4_XS": (23, "iq4_xs", True), "IQ1_M": (29, "iq1_m", True),
    "TQ1_0": (34, "tq1_0", True), "TQ2_0": (35, "tq2_0", True), "MXFP4": (39, "mxfp4", True),
    "NVFP4": (40, "nvfp4", True), "Q1_0": (41, "q1_0", True), "Q2_0": (42, "q2_0", True),
}


class GGML:
    def __init__(self, path):
        lib = ctypes.CDLL(path)
        self.lib = lib
        lib.ggml_version.restype = ctypes.c_char_p
        lib.ggml_quantize_chunk.restype = ctypes.c_size_t
        lib.ggml_quantize_chunk.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64,
                                            ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p]
        lib.ggml_quantize_requires_imatrix.restype = ctypes.c_bool
        lib.ggml_quantize_requires_imatrix.argtypes = [ctypes.c_int]
        lib.ggml_type_size.restype = ctypes.c_size_t
        lib.ggml_type_size.argtypes = [ctypes.c_int]
        lib.ggml_blck_size.restype = ctypes.c_int64
        lib.ggml_blck_size.argtypes = [ctypes.c_int]
        lib.ggml_validate_row_data.restype = ctypes.c_bool
        lib.ggml_validate_row_data.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t]
        self.version = lib.ggml_version().decode()

    def sizes(self, tid):
        return int(self.lib.ggml_blck_size(tid)), int(self.lib.ggml_type_size(tid))

    def quantize(self, tid, rows, n_per_row, imatrix):
        """In a forked child (ggml aborts on some inputs): bytes, or None if the child died."""
        block, size = self.sizes(tid)
        src = np.ascontiguousarray(rows, dtype=np.float32)
        nrows = src.size // n_per_row
        nbytes = nrows * (n_per_row // block) * size
        imp = None if imatrix is None else np.ascontiguousarray(imatrix, dtype=np.float32)
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            dst = np.zeros(nbytes, dtype=np.uint8)
            written = self.lib.ggml_quantize_chunk(tid, src.ctypes.data, dst.ctypes.data, 0, nrows, n_per_row,
                                                   None if imp is None else imp.ctypes.data)
            data = dst.tobytes() if written == nbytes else b""
            view = memoryview(data)
            while view:
                n = os.write(w, view)
                view = view[n:]
            os._exit(0 if written == nbytes else 3)
        os.close(w)
        chunks = []
        while True:
            b = os.read(r, 1 << 16)
            if not b:
                break
            chunks.append(b)
        os.close(r)
        _, status = os.waitpid(pid, 0)
        if status != 0:
            return None
        return np.frombuffer(b"".join(chunks), dtype=np.uint8)

    def dequantize(self, fn, data, n):
        f = getattr(self.lib, "dequantize_row_" + fn)
        f.restype = None
        f.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
        data = np.ascontiguousarray(data, dtype=np.uint8)
        out = np.zeros(n, dtype=np.float32)
        f(data.ctypes.data, out.ctypes.data, n)
        return out

    def valid(self, tid, data):
        data = np.ascontiguousarray(data, dtype=np.uint8)
        return bool(self.lib.ggml_validate_row_data(tid, data.ctypes.data, data.size))


def read_cases():
    inputs = np.fromfile(os.path.join(BASE, "inputs.f32"), dtype="<f4")
    cases = []
    with open(os.path.join(BASE, "cases.tsv")) as fh:
        next(fh)
        for line in fh:
            name, off, count, _ = line.rstrip("\n").split("\t", 3)
            cases.append((name, inputs[int(off):int(off) + int(count)]))
    return cases


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ggml-lib", required=True, help="path to libggml-base.so")
    args = ap.parse_args()
    ggml = GGML(args.ggml_lib)
    os.makedirs(OUT, exist_ok=True)
    hashes = {}

    def write(name, raw):
        with open(os.path.join(OUT, name), "wb") as fh:
            fh.write(raw)
        hashes[name] = hashlib.sha256(raw).hexdigest()

    cases = read_cases()
    rng = np.random.default_rng(8080)
    importance = []
    for name, row in cases:
        w = (np.exp(rng.standard_normal(row.size)) * rng.uniform(0.01, 10)).astype(np.float32)
        if name == "sparse":
            w[row == 0] = 0
        importance.append(w)
    write("importance.f32", np.concatenate(importance).astype("<f4").tobytes())
    matrix = (rng.standard_normal((8, 512)) * rng.uniform(0.01, 1, (8, 1))).astype(np.float32)
    matrix_imp = (np.exp(rng.standard_normal(512)) * 0.3).astype(np.float32)
    write("matrix.f32", matrix.astype("<f4").tobytes())
    write("matrix.importance.f32", matrix_imp.astype("<f4").tobytes())

    skipped = ["type\tvariant\tcase\twhy"]
    for tname, (tid, fn, new) in TYPES.items():
        block, size = ggml.sizes(tid)
        needs = ggml.lib.ggml_quantize_requires_imatrix(tid)
        variants = [("imatrix", True)] + ([("plain", False)] if new and not needs else [])
        for variant, with_imp in variants:
            parts, valid, deq = [], [], []
            for (cname, row), imp in zip(cases, importance):
                if row.size % block:
                    skipped.append(f"{tname}\t{variant}\t{cname}\tlength {row.size} is not a multiple of {block}")
                    continue
                q = ggml.quantize(tid, row, row.size, imp if with_imp else None)
                if q is None:
                    skipped.append(f"{tname}\t{variant}\t{cname}\tggml aborted")
                    # a placeholder of zero bytes keeps the layout fixed; tests skip what skipped.tsv lists
                    q = np.zeros(row.size // block * size, dtype=np.uint8)
                parts.append(q)
                if variant == "imatrix":
                    valid.append(1 if ggml.valid(tid, q) else 0)
                    if new:
                        deq.append(ggml.dequantize(fn, q, row.size))
            suffix = ".imatrix" if with_imp else ""
            write(f"{tname}{suffix}.quant", np.concatenate(parts).tobytes())
            if variant == "imatrix":
                write(f"{tname}.valid", bytes(valid))
                if new:
                    write(f"{tname}.dequant.f32.zst",
                          zstandard.ZstdCompressor(level=19).compress(np.concatenate(deq).astype("<f4").tobytes()))
            mq = ggml.quantize(tid, matrix, 512, matrix_imp if with_imp else None)
            if mq is None:
                skipped.append(f"{tname}\t{variant}\tmatrix\tggml aborted")
            else:
                write(f"{tname}.matrix{suffix}.quant", mq.tobytes())
    write("skipped.tsv", ("\n".join(skipped) + "\n").encode())
    with open(os.path.join(OUT, "README.md"), "w") as fh:
        fh.write("# quant-golden/imatrix\n\nMade by `python3 Fixtures/scripts/make_imatrix_quant_goldens.py "
                 f"--ggml-lib libggml-base.so` (ggml {ggml.version}, from llama-cpp-python 0.3.36's vendored "
                 "llama.cpp; numpy " + np.__version__ + "). The script's docstring describes every file.\n\n"
                 "```\n" + "".join(f"{h}  {n}\n" for n, h in sorted(hashes.items())) + "```\n")
    print(f"wrote {len(hashes)} files to {os.path.normpath(OUT)}; {len(skipped) - 1} skips", file=sys.stderr)


if __name__ == "__main__":
    main()
