#!/usr/bin/env python3
"""Makes Fixtures/gguf/small.gguf and small-align64.gguf with gguf-py (pip install gguf; made with 0.19.0).

Tests/ModelFilesTests/GGUFTests.swift hardcodes every value written here: change both together.
Run from the repository root: python3 Fixtures/scripts/make_gguf_fixtures.py
"""
import hashlib
import importlib.metadata
import os

import numpy as np
import gguf
from gguf import GGUFValueType as T
from gguf import GGMLQuantizationType as Q

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "gguf")


def tensors():
    f32 = (np.arange(6, dtype=np.float32) * 1.5 - 2.0).reshape(2, 3)           # numpy [2, 3] -> dims [3, 2]
    f16 = (np.arange(8, dtype=np.float32) * 0.25 - 1.0).astype(np.float16)     # dims [8]
    src = np.sin(np.arange(2 * 64, dtype=np.float32) * 0.1).reshape(2, 64)     # dims [64, 2]
    q8 = gguf.quants.quantize(src, Q.Q8_0)                                     # bytes [2, 68]
    return [("t.f32", f32, None), ("t.f16", f16, None), ("blk.0.q8", q8, Q.Q8_0)]


def make(name, alignment):
    path = os.path.join(OUT, name)
    w = gguf.GGUFWriter(path, "qwen2")                     # adds general.architecture = "qwen2" first
    if alignment is not None:
        w.add_custom_alignment(alignment)                  # u32 general.alignment
    w.add_uint8("test.u8", 200)
    w.add_int8("test.i8", -100)
    w.add_uint16("test.u16", 60000)
    w.add_int16("test.i16", -30000)
    w.add_uint32("test.u32", 4000000000)
    w.add_int32("test.i32", -2000000000)
    w.add_float32("test.f32", 1.5)
    w.add_bool("test.bool", True)
    w.add_string("test.string", "héllo ✓")
    w.add_uint64("test.u64", 18000000000000000000)
    w.add_int64("test.i64", -9000000000000000000)
    w.add_float64("test.f64", -0.125)
    w.add_array("test.strings", ["a", "", "ĠGGUF", "<|im_end|>"])
    w.add_key_value("test.u16s", [1, 2, 65535], T.ARRAY, sub_type=T.UINT16)
    w.add_array("test.i32s", [-1, 0, 7])
    w.add_array("test.f32s", [0.5, -2.0])
    w.add_array("test.bools", [True, False, True])
    for tname, data, raw in tensors():
        w.add_tensor(tname, data, raw_dtype=raw)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    with open(path, "rb") as f:
        blob = f.read()
    print(f"{name}  {len(blob)} bytes  sha256 {hashlib.sha256(blob).hexdigest()}")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    print(f"gguf-py {importlib.metadata.version('gguf')}, numpy {np.__version__}")
    make("small.gguf", None)
    make("small-align64.gguf", 64)
