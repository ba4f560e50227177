#!/usr/bin/env python3
"""Makes Fixtures/safetensors/golden.safetensors and golden.expected.json.

The safetensors file is written by the Python `safetensors` library (its Rust serializer); the expected file is
what the same library reads back with `safe_open` (names in header order, dtype, shape, data_offsets, bytes as hex)
plus the `__metadata__`. ModelFilesTests checks that our reader gives exactly the same.

    python3 Fixtures/scripts/make_safetensors_fixtures.py

Made with safetensors 0.8.0, numpy 2.4.6, CPython 3.11.7. No torch is needed: BF16 is passed to the serializer as
raw uint16 bit patterns through `safetensors.TensorSpec`.
"""
import hashlib
import json
import pathlib

import numpy as np
import safetensors
from safetensors import TensorSpec, safe_open

OUT = pathlib.Path(__file__).resolve().parent.parent / "safetensors"

# Shapes cover scalars, empty tensors, 1-D and 3-D. Values are exact in every type (small integers / halves).
def tensors():
    base = np.arange(-6, 6, dtype=np.float64) / 2  # -3.0 ... 2.5
    t = {
        "model.embed_tokens.weight": base.reshape(3, 4).astype(np.float32),
        "model.norm.weight": base[:5].astype(np.float16),
        "lm_head.weight": base.reshape(2, 3, 2).astype(np.float64),
        "scalar.f32": np.array(7.25, dtype=np.float32),
        "empty.f32": np.zeros((0, 3), dtype=np.float32),
        "ids.i64": np.array([-(2**40), -1, 0, 2**40 + 3], dtype=np.int64),
        "ids.i32": np.array([[-(2**31), 2**31 - 1], [1, -2]], dtype=np.int32),
        "ids.i16": np.array([-32768, 32767, 5], dtype=np.int16),
        "ids.i8": np.array([-128, 127, 0, 1, -1], dtype=np.int8),
        "bytes.u8": np.array([0, 1, 254, 255], dtype=np.uint8),
        "mask.bool": np.array([[True, False, True], [False, False, True]], dtype=np.bool_),
    }
    return t


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    arrays = tensors()
    specs = {k: TensorSpec(dtype=v.dtype.name, shape=v.shape, data_ptr=v.ctypes.data, data_len=v.nbytes)
             for k, v in arrays.items()}
    # BF16: float32 values that are exact in bfloat16, so the top 16 bits are the bf16 encoding.
    bf16 = (np.array([1.0, -2.0, 0.5, 3.0, -0.0, 96.0], dtype=np.float32).view(np.uint32) >> 16).astype(np.uint16)
    specs["model.layers.0.mlp.bf16"] = TensorSpec(dtype="bfloat16", shape=(2, 3), data_ptr=bf16.ctypes.data,
                                                  data_len=bf16.nbytes)
    metadata = {"format": "pt", "made_by": "Fixtures/scripts/make_safetensors_fixtures.py", "unicode": "é 中 🙂"}
    data = bytes(safetensors.serialize(specs, metadata=metadata))
    path = OUT / "golden.safetensors"
    path.write_bytes(data)

    # Read it back with the reference library, in header order.
    header_len = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + header_len])
    expected = {"metadata": header.get("__metadata__", {}), "tensors": []}
    with safe_open(str(path), framework="numpy") as f:
        assert f.metadata() == metadata
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = data[8 + header_len + begin:8 + header_len + end]
        expected["tensors"].append({"name": name, "dtype": info["dtype"], "shape": info["shape"],
                                    "data_offsets": [begin, end], "hex": raw.hex()})
    (OUT / "golden.expected.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n")
    for p in sorted(OUT.glob("golden.*")):
        print(hashlib.sha256(p.read_bytes()).hexdigest(), p.name, p.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
