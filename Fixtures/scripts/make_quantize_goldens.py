#!/usr/bin/env python3
"""Makes Fixtures/quantize-golden/: two small F16 GGUF models and a digest of what llama-quantize (llama-cpp-python's
`llama_model_quantize`, made with 0.3.36) writes for each of them and each `qwenkit quantize` TYPE.

- `dense.f16.gguf`: qwen2, hidden 256, 10 layers (so blk.10 sorts after blk.9, not after blk.1), 4 heads and 1 KV
  head (n_gqa 4), untied `output.weight`, ffn_down rows of 288 (K-quants fall back), tensors written in the
  converter's order with general.file_type and general.quantization_version early (both move to the end).
- `moe.f16.gguf`: qwen2moe, 8 experts (the n_expert == 8 rules), 3 layers, tied embeddings (no output.weight),
  expert ffn_down rows of 32 (K-quants fall back to 32-blocks), shared-expert ffn_down rows of 80 (not a multiple
  of 32: K-quants fall back to F16; 32-block types have no fallback, so llama-quantize refuses them), a router
  `ffn_gate_inp_shexp` stored as {256, 1} (written back as {256}).

Shapes are trimmed to keep the files small: every matrix has 8 or 16 rows (ne[1]) whatever the hyperparameters
say. llama-quantize reads the hyperparameters and tensor names but never checks tensor shapes against them, and the
type policy depends only on names, ne[0], the layer count, head counts and expert count.

Each digest (`<model>.<TYPE>.json`) holds the file size, an FNV-1a 64 hash of the whole file and of its header
(everything before the tensor data), every KV (key, type, value) in order and every tensor's name, type, dims,
offset and FNV-1a 64 of its bytes. A TYPE that llama-quantize refuses gets {"error": true}.

Run from the repository root: python3 Fixtures/scripts/make_quantize_goldens.py
"""
import importlib.metadata
import json
import os
import sys
import tempfile

import numpy as np
import gguf


OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "quantize-golden")

# qwenkit TYPE -> llama_ftype (shared/SPEC-FACTS.md §1.7)
TYPES = {
    "Q8_0": 7, "Q4_0": 2, "Q4_1": 3, "Q5_0": 8, "Q5_1": 9, "Q2_K": 10, "Q3_K_S": 11, "Q3_K_M": 12, "Q3_K_L": 13,
    "Q4_K_S": 14, "Q4_K_M": 15, "Q5_K_S": 16, "Q5_K_M": 17, "Q6_K": 18, "F16": 1, "BF16": 32, "F32": 0,
}

HIDDEN = 256
ROWS = 8


def weights(rng, ne0, ne1, ne2=None):
    """numpy array with ggml dims (ne0, ne1[, ne2]): heavy-ish tailed values, stored as float16."""
    shape = (ne1, ne0) if ne2 is None else (ne2, ne1, ne0)
    x = rng.standard_normal(shape).astype(np.float32) * 0.05
    x += (rng.standard_normal(shape) ** 3).astype(np.float32) * 0.01
    return x.astype(np.float16)


def common_kvs(w, arch, layers, file_type_early=True):
    w.add_quantization_version(2)                       # moved to the end by llama-quantize
    w.add_file_type(1)                                  # MOSTLY_F16, moved to the end too
    w.add_name("quantize golden " + arch)
    w.add_context_length(512)
    w.add_embedding_length(HIDDEN)
    w.add_block_count(layers)
    w.add_head_count(4)
    w.add_head_count_kv(1)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_tokenizer_model("gpt2")
    w.add_token_list([f"t{i}" for i in range(64)])
    w.add_array("test.float_array", [0.5, -1.25, 3.0])


def make_dense(path):
    rng = np.random.default_rng(20250501)
    layers, ff = 10, 288
    w = gguf.GGUFWriter(path, "qwen2")
    common_kvs(w, "qwen2", layers)
    w.add_feed_forward_length(ff)
    w.add_tensor("token_embd.weight", weights(rng, HIDDEN, 64))
    for i in range(layers):
        p = f"blk.{i}."
        w.add_tensor(p + "attn_norm.weight", np.ones(HIDDEN, dtype=np.float32))
        for n in ("attn_q", "attn_k", "attn_v"):
            w.add_tensor(p + n + ".weight", weights(rng, HIDDEN, ROWS))
            w.add_tensor(p + n + ".bias", rng.standard_normal(ROWS).astype(np.float32))
        w.add_tensor(p + "attn_output.weight", weights(rng, HIDDEN, ROWS))
        w.add_tensor(p + "ffn_norm.weight", np.ones(HIDDEN, dtype=np.float32))
        w.add_tensor(p + "ffn_gate.weight", weights(rng, HIDDEN, ROWS))
        w.add_tensor(p + "ffn_up.weight", weights(rng, HIDDEN, ROWS))
        w.add_tensor(p + "ffn_down.weight", weights(rng, ff, ROWS))
    w.add_tensor("output_norm.weight", np.ones(HIDDEN, dtype=np.float32))
    w.add_tensor("output.weight", weights(rng, HIDDEN, 64))
    write(w)


def make_moe(path):
    rng = np.random.default_rng(20250502)
    layers, ff_exp, ff_shexp, experts = 3, 32, 80, 8
    w = gguf.GGUFWriter(path, "qwen2moe")
    common_kvs(w, "qwen2moe", layers)
    w.add_expert_count(experts)
    w.add_expert_used_count(2)
    w.add_expert_feed_forward_length(ff_exp)
    w.add_expert_shared_feed_forward_length(ff_shexp)
    w.add_tensor("token_embd.weight", weights(rng, HIDDEN, 64))
    for i in range(layers):
        p = f"blk.{i}."
        w.add_tensor(p + "attn_norm.weight", np.ones(HIDDEN, dtype=np.float32))
        for n in ("attn_q", "attn_k", "attn_v"):
            w.add_tensor(p + n + ".weight", weights(rng, HIDDEN, ROWS))
            w.add_tensor(p + n + ".bias", rng.standard_normal(ROWS).astype(np.float32))
        w.add_tensor(p + "attn_output.weight", weights(rng, HIDDEN, ROWS))
        w.add_tensor(p + "ffn_norm.weight", np.ones(HIDDEN, dtype=np.float32))
        w.add_tensor(p + "ffn_gate_inp.weight", rng.standard_normal((experts, HIDDEN)).astype(np.float32))
        w.add_tensor(p + "ffn_gate_exps.weight", weights(rng, HIDDEN, ROWS, experts))
        w.add_tensor(p + "ffn_up_exps.weight", weights(rng, HIDDEN, ROWS, experts))
        w.add_tensor(p + "ffn_down_exps.weight", weights(rng, ff_exp, ROWS, experts))
        w.add_tensor(p + "ffn_gate_inp_shexp.weight", rng.standard_normal((1, HIDDEN)).astype(np.float32))
        w.add_tensor(p + "ffn_gate_shexp.weight", weights(rng, HIDDEN, ROWS))
        w.add_tensor(p + "ffn_up_shexp.weight", weights(rng, HIDDEN, ROWS))
        w.add_tensor(p + "ffn_down_shexp.weight", weights(rng, ff_shexp, ROWS))
    w.add_tensor("output_norm.weight", np.ones(HIDDEN, dtype=np.float32))
    write(w)


def write(w):
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def kv_value(field):
    t = field.types[0]
    if t == gguf.GGUFValueType.ARRAY:
        et = field.types[1] if len(field.types) > 1 else None
        vals = [field.parts[i] for i in field.data]
        if et == gguf.GGUFValueType.STRING:
            vals = [bytes(v).decode("utf-8") for v in vals]
        else:
            vals = [v.tolist()[0] for v in vals]
        return {"type": "ARRAY", "element_type": et.name if et is not None else None, "value": vals}
    v = field.parts[field.data[0]]
    if t == gguf.GGUFValueType.STRING:
        return {"type": t.name, "value": bytes(v).decode("utf-8")}
    return {"type": t.name, "value": v.tolist()[0]}


def digest(path):
    with open(path, "rb") as f:
        data = f.read()
    r = gguf.GGUFReader(path)
    kvs = []
    for field in r.fields.values():
        if field.name.startswith("GGUF."):
            continue
        kvs.append({"key": field.name, **kv_value(field)})
    tensors = []
    for t in r.tensors:
        start = int(t.data_offset)  # gguf-py's is absolute; the file stores it relative to the data section
        tensors.append({"name": t.name, "type": t.tensor_type.name, "dims": [int(d) for d in t.shape],
                        "offset": start - r.data_offset, "fnv1a64": fnv1a64(data[start:start + int(t.n_bytes)])})
    return {"file_size": len(data), "file_fnv1a64": fnv1a64(data), "header_fnv1a64": fnv1a64(data[:r.data_offset]),
            "kvs": kvs, "tensors": tensors}


def compact_json(result):
    """One KV or tensor per line: small, and a diff shows which one changed."""
    lines = []
    for key, value in result.items():
        if isinstance(value, list):
            items = ",\n  ".join(json.dumps(v, ensure_ascii=False) for v in value)
            lines.append(f'"{key}": [\n  {items}\n]')
        else:
            lines.append(f"{json.dumps(key)}: {json.dumps(value)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def quantize(src, dst, ftype):
    import llama_cpp  # only here: the digest helpers are imported by make_imatrix_quantize_goldens.py

    params = llama_cpp.llama_model_quantize_default_params()
    params.nthread = 1
    params.ftype = ftype
    return llama_cpp.llama_model_quantize(src.encode(), dst.encode(), params)


def main():
    os.makedirs(OUT, exist_ok=True)
    models = {"dense": make_dense, "moe": make_moe}
    for model, make in models.items():
        src = os.path.join(OUT, f"{model}.f16.gguf")
        make(src)
        for name, ftype in TYPES.items():
            with tempfile.TemporaryDirectory() as tmp:
                dst = os.path.join(tmp, "out.gguf")
                rc = quantize(src, dst, ftype)
                result = digest(dst) if rc == 0 else {"error": True}
            with open(os.path.join(OUT, f"{model}.{name}.json"), "w") as f:
                f.write(compact_json(result))
            print(model, name, "error" if rc else result["file_size"], file=sys.stderr)
    print("llama-cpp-python", importlib.metadata.version("llama-cpp-python"), "gguf", importlib.metadata.version("gguf"),
          "numpy", np.__version__, file=sys.stderr)


if __name__ == "__main__":
    main()
