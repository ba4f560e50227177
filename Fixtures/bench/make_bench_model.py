#!/usr/bin/env python3
"""Makes a Qwen2-0.5B-shaped model with random weights for benchmarks (never committed; about 1 GB each).

    python3 Fixtures/bench/make_bench_model.py [OUT_DIR]      (default /tmp/qwenkit-bench/qwen2-0.5b)

Writes OUT_DIR/hf/ (the real Qwen2 tokenizer files from Fixtures/tokenizers/qwen2, config.json of Qwen2-0.5B: hidden 896, 24 layers, 14 heads, 2 KV heads, FFN 4864,
vocab 151936, tied embeddings, BF16 matrices, F32 norms and biases, in model.safetensors) and OUT_DIR/model-f16.gguf
(the same weights as llama.cpp's converter lays them out with --outtype f16, without the tokenizer), using
numpy, safetensors and gguf-py. Weights are N(0, 0.02) (norms around 1), seeded, so every run makes the same files.
"""
import json
import pathlib
import sys

import numpy as np
import gguf
import safetensors
from safetensors import TensorSpec

HIDDEN, LAYERS, HEADS, KV_HEADS, FFN, VOCAB = 896, 24, 14, 2, 4864, 151936
KV = KV_HEADS * HIDDEN // HEADS


def bf16_bits(x):
    u = x.astype(np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def tensors():
    rng = np.random.default_rng(5)
    out = {}

    def matrix(name, rows, cols):
        out[name] = ("BF16", bf16_bits(rng.standard_normal((rows, cols), dtype=np.float32) * 0.02))

    def vector(name, n, around=0.0):
        out[name] = ("F32", (around + rng.standard_normal(n, dtype=np.float32) * 0.02).astype(np.float32))

    matrix("model.embed_tokens.weight", VOCAB, HIDDEN)
    vector("model.norm.weight", HIDDEN, 1.0)
    for i in range(LAYERS):
        p = f"model.layers.{i}."
        vector(p + "input_layernorm.weight", HIDDEN, 1.0)
        vector(p + "post_attention_layernorm.weight", HIDDEN, 1.0)
        for proj, rows in [("q", HIDDEN), ("k", KV), ("v", KV)]:
            matrix(p + f"self_attn.{proj}_proj.weight", rows, HIDDEN)
            vector(p + f"self_attn.{proj}_proj.bias", rows)
        matrix(p + "self_attn.o_proj.weight", HIDDEN, HIDDEN)
        matrix(p + "mlp.gate_proj.weight", FFN, HIDDEN)
        matrix(p + "mlp.up_proj.weight", FFN, HIDDEN)
        matrix(p + "mlp.down_proj.weight", HIDDEN, FFN)
    return out


def gguf_name(hf):
    fixed = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight"}
    if hf in fixed:
        return fixed[hf]
    parts = hf.split(".")
    table = {"input_layernorm.weight": "attn_norm.weight", "post_attention_layernorm.weight": "ffn_norm.weight",
             "self_attn.o_proj.weight": "attn_output.weight", "mlp.gate_proj.weight": "ffn_gate.weight",
             "mlp.up_proj.weight": "ffn_up.weight", "mlp.down_proj.weight": "ffn_down.weight"}
    rest = ".".join(parts[3:])
    if rest.startswith("self_attn.") and rest[10] in "qkv" and rest[11:17] == "_proj.":
        return f"blk.{parts[2]}.attn_{rest[10]}.{rest[17:]}"
    return f"blk.{parts[2]}.{table[rest]}"


def main():
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/qwenkit-bench/qwen2-0.5b")
    (out / "hf").mkdir(parents=True, exist_ok=True)
    ts = tensors()
    config = {"architectures": ["Qwen2ForCausalLM"], "bos_token_id": 151643, "eos_token_id": 151643,
              "hidden_act": "silu", "hidden_size": HIDDEN, "intermediate_size": FFN, "max_position_embeddings": 32768,
              "max_window_layers": 24, "model_type": "qwen2", "num_attention_heads": HEADS,
              "num_hidden_layers": LAYERS, "num_key_value_heads": KV_HEADS, "rms_norm_eps": 1e-06,
              "rope_theta": 1000000.0, "sliding_window": 32768, "tie_word_embeddings": True,
              "torch_dtype": "bfloat16", "use_cache": True, "use_sliding_window": False, "vocab_size": VOCAB}
    (out / "hf" / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    # The real Qwen2 tokenizer files (committed zstd-compressed under Fixtures/tokenizers/qwen2).
    import zstandard
    tok = pathlib.Path(__file__).resolve().parent.parent / "tokenizers" / "qwen2"
    for f in tok.iterdir():
        if f.name.endswith(".zst"):
            data = zstandard.ZstdDecompressor().decompress(f.read_bytes(), max_output_size=1 << 30)
            (out / "hf" / f.name[:-4]).write_bytes(data)
        elif f.suffix == ".json":
            (out / "hf" / f.name).write_bytes(f.read_bytes())
    specs = {k: TensorSpec(dtype={"BF16": "bfloat16", "F32": "float32"}[d], shape=a.shape, data_ptr=a.ctypes.data,
                           data_len=a.nbytes) for k, (d, a) in ts.items()}
    safetensors.serialize_file(specs, str(out / "hf" / "model.safetensors"), metadata={"format": "pt"})

    w = gguf.GGUFWriter(str(out / "model-f16.gguf"), "qwen2")
    w.add_type("model")
    w.add_name("Bench Qwen2 0.5B")
    w.add_block_count(LAYERS)
    w.add_context_length(32768)
    w.add_embedding_length(HIDDEN)
    w.add_feed_forward_length(FFN)
    w.add_head_count(HEADS)
    w.add_head_count_kv(KV_HEADS)
    w.add_rope_freq_base(1000000.0)
    w.add_layer_norm_rms_eps(1e-06)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    for hf in sorted(ts):
        d, a = ts[hf]
        x = (a.astype(np.uint32) << 16).view(np.float32) if d == "BF16" else a
        w.add_tensor(gguf_name(hf), x.astype(np.float16) if x.ndim >= 2 else x)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(out)


if __name__ == "__main__":
    main()
