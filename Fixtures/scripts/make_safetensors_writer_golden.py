#!/usr/bin/env python3
"""Makes Fixtures/safetensors/writer-golden.safetensors: what Python's `safetensors` serializer writes for a fixed
set of tensors and metadata. Tests/ModelFilesTests/SafetensorsWriterTests.swift declares the same tensors (names,
dtypes, shapes, in the order below) and metadata, and checks that our SafetensorsWriter reproduces this file byte
for byte.

    python3 Fixtures/scripts/make_safetensors_writer_golden.py

Made with safetensors 0.8.0, numpy 2.4.6, CPython 3.11.7. No torch is needed: every tensor goes to the serializer
as a `safetensors.TensorSpec` over a numpy buffer (BF16 as raw uint16 bit patterns, F8 as raw bytes).

What the serializer does, observed with this version (and what our writer copies):
- tensors are ordered by dtype rank, descending (U64 I64 F64 F32 U32 I32 BF16 F16 U16 I16 F8_E4M3 F8_E5M2 I8 U8
  BOOL), then by name in code-point order; data_offsets follow that order with no gaps;
- the header is compact JSON (no spaces), `__metadata__` first, strings escaped as `json.dumps(ensure_ascii=False)`
  does, then padded with spaces to a multiple of 8 bytes;
- `__metadata__` keys come out in the iteration order of a Rust HashMap, which is random per call. Our writer
  sorts them by code point, so this script serializes until the serializer happens to pick that order (with
  4 keys, 1 in 24 calls) and asserts that it did. The bytes are still the serializer's own output.
"""
import hashlib
import json
import pathlib

import numpy as np
import safetensors
from safetensors import TensorSpec, safe_open

OUT = pathlib.Path(__file__).resolve().parent.parent / "safetensors" / "writer-golden.safetensors"
MAX_TRIES = 2000

# Declaration order is deliberately not file order: the serializer sorts. Values are small and exact in each type.
def arrays():
    halves = np.arange(-6, 6, dtype=np.float64) / 2  # -3.0 ... 2.5
    bf16 = (np.array([1.0, -2.0, 0.5, 3.0, -0.0, 96.0], dtype=np.float32).view(np.uint32) >> 16).astype(np.uint16)
    return [
        ("scalar.f32", "float32", np.array(7.25, dtype=np.float32)),
        ("bytes.u8", "uint8", np.array([0, 1, 254, 255], dtype=np.uint8)),
        ("model.embed_tokens.weight", "float32", halves.reshape(3, 4).astype(np.float32)),
        ("Model.Upper", "float32", np.array([1.5, -1.5], dtype=np.float32)),
        ("_underscore", "float32", np.array([0.25], dtype=np.float32)),
        ("caf\u00e9.\u4e2d", "float32", np.array([-0.5], dtype=np.float32)),
        ('quote"back\\slash\nctl\x01', "float32", np.array([2.0], dtype=np.float32)),
        ("empty.f32", "float32", np.zeros((0, 3), dtype=np.float32)),
        ("empty.u8", "uint8", np.zeros((4, 0), dtype=np.uint8)),
        ("model.norm.weight", "float16", halves[:5].astype(np.float16)),
        ("mlp.bf16", "bfloat16", bf16.reshape(2, 3)),
        ("ids.i32", "int32", np.array([[-(2**31), 2**31 - 1], [1, -2]], dtype=np.int32)),
        ("ids.i64", "int64", np.array([-(2**40), -1, 0, 2**40 + 3], dtype=np.int64)),
        ("mask.bool", "bool", np.array([[True, False, True], [False, False, True]], dtype=np.bool_)),
        ("lm_head.f64", "float64", halves.reshape(2, 3, 2)),
        ("ids.i16", "int16", np.array([-32768, 32767, 5], dtype=np.int16)),
        ("ids.i8", "int8", np.array([-128, 127, 0], dtype=np.int8)),
        ("ids.u16", "uint16", np.array([0, 65535], dtype=np.uint16)),
        ("ids.u32", "uint32", np.array([4000000000], dtype=np.uint32)),
        ("ids.u64", "uint64", np.array([2**64 - 1, 3], dtype=np.uint64)),
        ("fp8.e4m3", "float8_e4m3fn", np.array([0x38, 0xC0, 0x7E], dtype=np.uint8)),  # 1.0, -2.0, 448.0
        ("fp8.e5m2", "float8_e5m2", np.array([0x3C, 0xC0], dtype=np.uint8)),  # 1.0, -2.0
    ]

METADATA = {
    "format": "pt",
    "clé": "é 中 🙂",
    "note": 'says "hi" \\ back\tslash\nnew line \b\f\x01\x1f\x7f\u2028 end',
    "empty": "",
}


def code_point_sorted(keys):
    return list(keys) == sorted(keys)


def main():
    items = arrays()
    specs = {name: TensorSpec(dtype=dtype, shape=a.shape, data_ptr=a.ctypes.data, data_len=a.nbytes)
             for name, dtype, a in items}
    for attempt in range(1, MAX_TRIES + 1):
        data = bytes(safetensors.serialize(specs, metadata=METADATA))
        header_len = int.from_bytes(data[:8], "little")
        header = json.loads(data[8:8 + header_len])
        if code_point_sorted(header["__metadata__"].keys()):
            break
    else:
        raise SystemExit(f"the serializer never wrote __metadata__ keys in sorted order in {MAX_TRIES} tries")
    assert list(header)[0] == "__metadata__" and header["__metadata__"] == METADATA
    assert header_len % 8 == 0
    OUT.write_bytes(data)

    # The reference reader agrees with what went in.
    with safe_open(str(OUT), framework="numpy") as f:
        assert f.metadata() == METADATA
        assert sorted(f.keys()) == sorted(name for name, _, _ in items)
    for name, _, a in items:
        begin, end = header[name]["data_offsets"]
        assert data[8 + header_len + begin:8 + header_len + end] == a.tobytes(), name
    print(f"safetensors {safetensors.__version__}, numpy {np.__version__}; metadata order found after {attempt} tries")
    print(hashlib.sha256(data).hexdigest(), OUT.name, len(data), "bytes")


if __name__ == "__main__":
    main()
