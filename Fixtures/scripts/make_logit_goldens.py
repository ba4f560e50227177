#!/usr/bin/env python3
"""Writes golden logits for `qwenkit verify`: transformers' float32 forward pass of an HF checkpoint on some tokens.

    python3 Fixtures/scripts/make_logit_goldens.py MODEL_DIR --prompt "the cat sat on the mat" --out cat.safetensors
    python3 Fixtures/scripts/make_logit_goldens.py MODEL_DIR --prompts-file prompts.txt --out-dir goldens/
    python3 Fixtures/scripts/make_logit_goldens.py MODEL_DIR --tokens 9707,11,1879 --compact 64 --out ids.safetensors
    qwenkit verify model.gguf cat.safetensors

MODEL_DIR is any Hugging Face checkpoint directory transformers can load (config.json, safetensors, tokenizer).
The model is loaded with `from_pretrained(MODEL_DIR, dtype=torch.float32, attn_implementation="eager")`: in
transformers 5 the default dtype is the checkpoint's (bf16 would make bf16 goldens), and eager attention is the
plainest reference. Text is tokenized with the checkpoint's own tokenizer, adding no special tokens (special-token
text such as `<|im_start|>` in a prompt still becomes its id). One forward pass per prompt, all positions.

Inputs: `--prompt TEXT` (repeatable), `--prompts-file FILE` (one prompt per line; `\\n` in a line is a newline),
`--tokens 1,2,3` (repeatable; ids as given). One input and `--out FILE`, or several and `--out-dir DIR` (files
named `<stem>.<i>.safetensors`, i from 0, `--stem` defaulting to the directory's name).

Output: a safetensors file in one of two forms (`__metadata__` "format" = "qwenkit-golden-logits-v1"):
- full (default):       tokens I32 [n], logits F32 [n, vocab]
- compact (--compact K): tokens I32 [n], top_ids I32 [n, K] (each position's K largest logits, descending,
                         ties to the lower id), top_logits F32 [n, K], logsumexp F32 [n] (log Σ exp over the whole
                         vocabulary, computed in float64, stored as float32). A 152k vocabulary's goldens stay small;
                         verify computes KL over the K golden ids plus the remaining ("tail") mass.
Metadata (all strings): format, form, vocab_size, n_tokens, top_k (compact), model (directory basename),
transformers, torch (versions), dtype ("float32"), attention ("eager"), prompt (the text, when given as text).
"""
import argparse
import json
import os
import pathlib
import sys

import numpy as np
import torch

FORMAT = "qwenkit-golden-logits-v1"
DTYPES = {np.dtype(np.float32): "F32", np.dtype(np.int32): "I32"}  # in the serializer's order: F32 before I32


def save_file(tensors, path, metadata):
    """Writes what safetensors' serializer writes (compact JSON header, `__metadata__` first, tensors by dtype then
    name, spaces to a multiple of 8), except that metadata keys are sorted, not in a Rust HashMap's random order, so
    that the same inputs give the same bytes."""
    order = sorted(tensors, key=lambda name: (list(DTYPES.values()).index(DTYPES[tensors[name].dtype]), name))
    header, offset, blobs = {"__metadata__": dict(sorted(metadata.items()))}, 0, []
    for name in order:
        data = np.ascontiguousarray(tensors[name]).astype(tensors[name].dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": DTYPES[tensors[name].dtype], "shape": list(tensors[name].shape),
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little") + text + b"".join(blobs))


def load(model_dir):
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    tokenizer = None
    try:
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
    except Exception as e:  # token-only use needs no tokenizer
        print(f"make_logit_goldens: no tokenizer in {model_dir} ({e}); only --tokens works", file=sys.stderr)
    return model, tokenizer, transformers.__version__


def forward(model, tokens):
    with torch.no_grad():
        logits = model(torch.tensor([tokens], dtype=torch.long)).logits[0]
    assert logits.dtype == torch.float32
    return logits.numpy().astype(np.float32, copy=False)


def top_k(logits, k):
    """Each row's k largest logits, descending, ties broken by the lower id (a stable sort of the negated row)."""
    order = np.argsort(-logits, axis=1, kind="stable")[:, :k]
    return order.astype(np.int32), np.take_along_axis(logits, order, axis=1).astype(np.float32)


def logsumexp64(logits):
    x = logits.astype(np.float64)
    m = x.max(axis=1, keepdims=True)
    return (m[:, 0] + np.log(np.exp(x - m).sum(axis=1))).astype(np.float32)


def golden_tensors(tokens, logits, compact):
    t = np.asarray(tokens, dtype=np.int32)
    if compact is None:
        return {"tokens": t, "logits": np.ascontiguousarray(logits, dtype=np.float32)}
    ids, values = top_k(logits, compact)
    return {"tokens": t, "top_ids": ids, "top_logits": values, "logsumexp": logsumexp64(logits)}


def metadata(model_dir, vocab, n, compact, versions, prompt):
    meta = {"format": FORMAT, "form": "full" if compact is None else "compact", "vocab_size": str(vocab),
            "n_tokens": str(n), "model": os.path.basename(os.path.normpath(model_dir)),
            "transformers": versions[0], "torch": versions[1], "dtype": "float32", "attention": "eager",
            "script": "Fixtures/scripts/make_logit_goldens.py"}
    if compact is not None:
        meta["top_k"] = str(compact)
    if prompt is not None:
        meta["prompt"] = prompt
    return meta


def write_golden(path, model_dir, model, tokens, compact, versions, prompt=None):
    vocab = model.config.get_text_config().vocab_size
    if not tokens:
        raise SystemExit(f"make_logit_goldens: {path}: no tokens")
    bad = [t for t in tokens if not 0 <= t < vocab]
    if bad:
        raise SystemExit(f"make_logit_goldens: {path}: token {bad[0]} is out of range for vocabulary {vocab}")
    logits = forward(model, tokens)
    if logits.shape != (len(tokens), vocab):
        raise SystemExit(f"make_logit_goldens: logits shape {logits.shape}, expected {(len(tokens), vocab)}")
    if compact is not None and not 1 <= compact <= vocab:
        raise SystemExit(f"make_logit_goldens: --compact {compact} must be between 1 and the vocabulary size {vocab}")
    save_file(golden_tensors(tokens, logits, compact), str(path),
              metadata=metadata(model_dir, vocab, len(tokens), compact, versions, prompt))
    return logits


def read_inputs(a, tokenizer):
    """[(tokens, prompt text or None)] in the order given: --prompt, then --prompts-file lines, then --tokens."""
    texts = list(a.prompt or [])
    if a.prompts_file:
        for line in pathlib.Path(a.prompts_file).read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(line.replace("\\n", "\n"))
    inputs = []
    for text in texts:
        if tokenizer is None:
            raise SystemExit("make_logit_goldens: text prompts need the checkpoint's tokenizer")
        inputs.append((tokenizer(text, add_special_tokens=False)["input_ids"], text))
    for spec in a.tokens or []:
        inputs.append(([int(x) for x in spec.replace(" ", "").split(",") if x], None))
    return inputs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model_dir")
    ap.add_argument("--prompt", action="append", help="prompt text (repeatable)")
    ap.add_argument("--prompts-file", help="one prompt per line (\\n inside a line is a newline)")
    ap.add_argument("--tokens", action="append", help="comma-separated token ids (repeatable)")
    ap.add_argument("--out", help="output file (one input)")
    ap.add_argument("--out-dir", help="output directory (any number of inputs)")
    ap.add_argument("--stem", help="file name stem with --out-dir (default: the model directory's name)")
    ap.add_argument("--compact", type=int, metavar="K", help="write the compact form with each position's top K")
    a = ap.parse_args()
    model, tokenizer, tf_version = load(a.model_dir)
    versions = (tf_version, torch.__version__.split("+")[0])
    inputs = read_inputs(a, tokenizer)
    if not inputs:
        ap.error("give --prompt, --prompts-file or --tokens")
    if a.out and len(inputs) == 1:
        outs = [pathlib.Path(a.out)]
    elif a.out_dir:
        stem = a.stem or os.path.basename(os.path.normpath(a.model_dir))
        pathlib.Path(a.out_dir).mkdir(parents=True, exist_ok=True)
        outs = [pathlib.Path(a.out_dir) / f"{stem}.{i}.safetensors" for i in range(len(inputs))]
    else:
        ap.error("give --out FILE for one input, or --out-dir DIR")
    for (tokens, prompt), out in zip(inputs, outs):
        logits = write_golden(out, a.model_dir, model, tokens, a.compact, versions, prompt)
        print(json.dumps({"file": str(out), "tokens": len(tokens), "vocab": logits.shape[1],
                          "logit_std": round(float(logits.std()), 4)}))


if __name__ == "__main__":
    main()
