#!/usr/bin/env python3
"""Makes the tiny model fixtures `inspect` is tested on (Fixtures/models/) and their expected summaries.

- tiny-qwen2/: an HF model directory: config.json (qwen2, 2 layers, hidden 64, 4 heads, 2 KV heads, FFN 128,
  vocab 320, YaRN x4 from 1024, untied), tokenizer_config.json with a chat template, model.safetensors (BF16
  matrices, F32 norms and biases) written by Python's safetensors.
- tiny-qwen2-sharded/: the same weights split over two shards with model.safetensors.index.json.
- tiny-qwen2.gguf: the same model as llama.cpp's converter lays it out (keys in its order, F16 matrices, F32
  norms and biases, a 320-entry byte-level vocabulary with merges, special ids, chat template), written by gguf-py.
- stats.safetensors: F32/F16/BF16 tensors with NaN, +-Inf, large and tiny values, for --stats.
- expected.json: what the tests assert: parameter counts, bytes by type, hyperparameters, tokenizer counts, and
  per-tensor statistics computed by numpy in float64 over the finite elements (std with ddof=0).

Weights are random (seeded), not a trained model; the forward-pass fixtures come from transformers later.
Run from the repository root: python3 Fixtures/scripts/make_inspect_fixtures.py
Made with gguf 0.19.0, safetensors 0.8.0, numpy 2.4.6, CPython 3.11.7.
"""
import json
import os
import pathlib

import numpy as np
import gguf
import safetensors
from safetensors import TensorSpec

from tiny_vocab import byte_tokens_and_merges

ROOT = pathlib.Path(__file__).resolve().parent.parent / "models"
HIDDEN, LAYERS, HEADS, KV_HEADS, FFN, VOCAB = 64, 2, 4, 2, 128, 320
HEAD_DIM = HIDDEN // HEADS
CHAT_TEMPLATE = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content']"
                 " + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}"
                 "{% endif %}")

CONFIG = {
    "architectures": ["Qwen2ForCausalLM"],
    "attention_dropout": 0.0,
    "bos_token_id": 297,
    "eos_token_id": 298,
    "hidden_act": "silu",
    "hidden_size": HIDDEN,
    "initializer_range": 0.02,
    "intermediate_size": FFN,
    "max_position_embeddings": 4096,
    "max_window_layers": 2,
    "model_type": "qwen2",
    "num_attention_heads": HEADS,
    "num_hidden_layers": LAYERS,
    "num_key_value_heads": KV_HEADS,
    "rms_norm_eps": 1e-06,
    "rope_scaling": {"factor": 4.0, "original_max_position_embeddings": 1024, "type": "yarn"},
    "rope_theta": 1000000.0,
    "sliding_window": 4096,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "use_cache": True,
    "use_sliding_window": False,
    "vocab_size": VOCAB,
}


def bf16_bits(x):
    """float32 -> bfloat16 bit patterns, round to nearest even (as torch does)."""
    u = x.astype(np.float32).view(np.uint32).astype(np.uint64)
    rounded = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return rounded.astype(np.uint16)


def bf16_to_f32(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32)


def hf_tensors():
    """HF name -> (dtype, numpy array: float32 values, or uint16 bf16 bits)."""
    rng = np.random.default_rng(20261123)
    out = {}

    def matrix(name, rows, cols):
        out[name] = ("BF16", bf16_bits(rng.normal(0, 0.02, size=(rows, cols))))

    def vector(name, n, around=0.0, scale=0.02):
        out[name] = ("F32", (around + rng.normal(0, scale, size=n)).astype(np.float32))

    matrix("model.embed_tokens.weight", VOCAB, HIDDEN)
    matrix("lm_head.weight", VOCAB, HIDDEN)
    vector("model.norm.weight", HIDDEN, 1.0, 0.1)
    kv = KV_HEADS * HEAD_DIM
    for i in range(LAYERS):
        p = f"model.layers.{i}."
        vector(p + "input_layernorm.weight", HIDDEN, 1.0, 0.1)
        vector(p + "post_attention_layernorm.weight", HIDDEN, 1.0, 0.1)
        matrix(p + "self_attn.q_proj.weight", HIDDEN, HIDDEN)
        vector(p + "self_attn.q_proj.bias", HIDDEN)
        matrix(p + "self_attn.k_proj.weight", kv, HIDDEN)
        vector(p + "self_attn.k_proj.bias", kv)
        matrix(p + "self_attn.v_proj.weight", kv, HIDDEN)
        vector(p + "self_attn.v_proj.bias", kv)
        matrix(p + "self_attn.o_proj.weight", HIDDEN, HIDDEN)
        matrix(p + "mlp.gate_proj.weight", FFN, HIDDEN)
        matrix(p + "mlp.up_proj.weight", FFN, HIDDEN)
        matrix(p + "mlp.down_proj.weight", HIDDEN, FFN)
    return out


def spec(dtype, array):
    return TensorSpec(dtype={"BF16": "bfloat16", "F32": "float32", "F16": "float16"}[dtype], shape=array.shape,
                      data_ptr=array.ctypes.data, data_len=array.nbytes)


def write_safetensors(path, tensors, metadata=None):
    data = bytes(safetensors.serialize({k: spec(*v) for k, v in tensors.items()}, metadata=metadata))
    path.write_bytes(data)


def values(dtype, array):
    return bf16_to_f32(array) if dtype == "BF16" else array.astype(np.float32)


def stats(x):
    x = np.asarray(x, dtype=np.float64).ravel()
    finite = x[np.isfinite(x)]
    s = {"count": int(finite.size), "nan": int(np.isnan(x).sum()), "inf": int(np.isinf(x).sum())}
    if finite.size:
        s.update(min=float(finite.min()), max=float(finite.max()), mean=float(finite.mean()), std=float(finite.std()))
    return s


# llama.cpp's converter: HF name -> GGUF name (shared/SPEC-FACTS.md 2.5).
def gguf_name(hf):
    fixed = {"model.embed_tokens.weight": "token_embd.weight", "lm_head.weight": "output.weight",
             "model.norm.weight": "output_norm.weight"}
    if hf in fixed:
        return fixed[hf]
    parts = hf.split(".")
    layer, rest = parts[2], ".".join(parts[3:])
    table = {"input_layernorm.weight": "attn_norm.weight", "post_attention_layernorm.weight": "ffn_norm.weight",
             "self_attn.q_proj.weight": "attn_q.weight", "self_attn.q_proj.bias": "attn_q.bias",
             "self_attn.k_proj.weight": "attn_k.weight", "self_attn.k_proj.bias": "attn_k.bias",
             "self_attn.v_proj.weight": "attn_v.weight", "self_attn.v_proj.bias": "attn_v.bias",
             "self_attn.o_proj.weight": "attn_output.weight", "mlp.gate_proj.weight": "ffn_gate.weight",
             "mlp.up_proj.weight": "ffn_up.weight", "mlp.down_proj.weight": "ffn_down.weight"}
    return f"blk.{layer}.{table[rest]}"


def byte_level_vocab():
    """The shared tiny vocabulary (tiny_vocab.py), then the specials and [PADn]."""
    tokens, merges = byte_tokens_and_merges()
    types = [1] * len(tokens)
    for special in ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]:
        tokens.append(special)
        types.append(3)
    while len(tokens) < VOCAB:
        tokens.append(f"[PAD{len(tokens)}]")
        types.append(5)
    return tokens, types, merges


def write_gguf(path, tensors):
    w = gguf.GGUFWriter(str(path), "qwen2")
    w.add_type("model")
    w.add_name("Tiny Qwen2")
    w.add_block_count(LAYERS)
    w.add_context_length(CONFIG["max_position_embeddings"])
    w.add_embedding_length(HIDDEN)
    w.add_feed_forward_length(FFN)
    w.add_head_count(HEADS)
    w.add_head_count_kv(KV_HEADS)
    w.add_rope_scaling_type(gguf.RopeScalingType.YARN)
    w.add_rope_scaling_factor(4.0)
    w.add_rope_scaling_orig_ctx_len(1024)
    w.add_rope_freq_base(1000000.0)
    w.add_layer_norm_rms_eps(1e-06)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    tokens, types, merges = byte_level_vocab()
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("qwen2")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_eos_token_id(298)
    w.add_pad_token_id(296)
    w.add_bos_token_id(297)
    w.add_add_bos_token(False)
    w.add_add_eos_token(False)
    w.add_chat_template(CHAT_TEMPLATE)
    for hf in sorted(tensors):  # the converter's order: Python string order within the part
        dtype, array = tensors[hf]
        x = values(dtype, array)
        if x.ndim >= 2 and not hf.endswith("_norm.weight"):
            x = x.astype(np.float16)
        w.add_tensor(gguf_name(hf), x)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return tokens, types, merges


def main():
    ROOT.mkdir(parents=True, exist_ok=True)
    tensors = hf_tensors()
    expected = {}

    # HF directory, one file.
    single = ROOT / "tiny-qwen2"
    single.mkdir(exist_ok=True)
    (single / "config.json").write_text(json.dumps(CONFIG, indent=2, sort_keys=True) + "\n")
    (single / "tokenizer_config.json").write_text(json.dumps(
        {"add_bos_token": False, "bos_token": None, "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>",
         "chat_template": CHAT_TEMPLATE, "model_max_length": 4096}, indent=2) + "\n")
    write_safetensors(single / "model.safetensors", tensors, {"format": "pt"})

    # The same, sharded: embeddings and layer 0 in the first shard, the rest in the second.
    sharded = ROOT / "tiny-qwen2-sharded"
    sharded.mkdir(exist_ok=True)
    (sharded / "config.json").write_text((single / "config.json").read_text())
    first = {k: v for k, v in tensors.items() if k.startswith("model.embed") or ".layers.0." in k}
    second = {k: v for k, v in tensors.items() if k not in first}
    names = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
    write_safetensors(sharded / names[0], first, {"format": "pt"})
    write_safetensors(sharded / names[1], second, {"format": "pt"})
    total = sum(a.nbytes for _, a in tensors.values())
    weight_map = {k: names[0] for k in first} | {k: names[1] for k in second}
    (sharded / "model.safetensors.index.json").write_text(json.dumps(
        {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}, indent=2) + "\n")

    # GGUF.
    tokens, types, merges = write_gguf(ROOT / "tiny-qwen2.gguf", tensors)

    # Statistics fixture: values chosen to exercise every path (NaN, +-Inf, huge, tiny, constant, empty).
    rng = np.random.default_rng(7)
    big = rng.normal(3.0, 2.0, size=(70, 1000)).astype(np.float32)
    with_bad = rng.normal(0, 1, size=5000).astype(np.float32)
    with_bad[[3, 4096, 4999]] = [np.nan, np.inf, -np.inf]
    with_bad[100] = np.nan
    huge = np.array([3e38, 3e38, -3e38, 1.0, 1e-30], dtype=np.float32)
    stats_tensors = {
        "big.f32": ("F32", big),
        "with_bad.f32": ("F32", with_bad),
        "huge.f32": ("F32", huge),
        "constant.f16": ("F16", np.full(1000, 0.5, dtype=np.float16)),
        "mixed.f16": ("F16", np.concatenate([rng.normal(0, 100, 2000), [np.inf, np.nan, 65504, -65504]]).astype(np.float16)),
        "wide.bf16": ("BF16", bf16_bits(rng.normal(-1, 1e4, size=(9, 513)))),
        "nan_only.bf16": ("BF16", bf16_bits(np.array([np.nan, np.nan], dtype=np.float32))),
        "empty.f32": ("F32", np.zeros((0, 4), dtype=np.float32)),
    }
    write_safetensors(ROOT / "stats.safetensors", stats_tensors)

    expected["stats.safetensors"] = {k: stats(values(*v)) for k, v in stats_tensors.items()}
    expected["tiny-qwen2"] = {
        "parameter_count": int(sum(a.size for _, a in tensors.values())),
        "tensor_count": len(tensors),
        "bytes_by_type": {t: int(sum(a.nbytes for d, a in tensors.values() if d == t)) for t in ["BF16", "F32"]},
        "stats": {k: stats(values(*v)) for k, v in tensors.items()},
    }
    gguf_values = {}
    for hf, (dtype, array) in tensors.items():
        x = values(dtype, array)
        if x.ndim >= 2:
            x = x.astype(np.float16).astype(np.float32)
        gguf_values[gguf_name(hf)] = stats(x)
    expected["tiny-qwen2.gguf"] = {
        "parameter_count": int(sum(a.size for _, a in tensors.values())),
        "tensor_count": len(tensors),
        "vocabulary_size": len(tokens),
        "token_types": {"normal": types.count(1), "control": types.count(3), "unused": types.count(5)},
        "merge_count": len(merges),
        "chat_template_bytes": len(CHAT_TEMPLATE.encode()),
        "stats": gguf_values,
    }
    (ROOT / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
