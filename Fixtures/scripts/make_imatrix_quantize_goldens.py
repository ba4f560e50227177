#!/usr/bin/env python3
"""Makes Fixtures/quantize-imatrix/: digests of what llama-quantize writes with an importance matrix, for every
file type it lists, and with its other per-tensor options.

Models (none committed here; tests rebuild the first, the others are in ../quantize-golden):
  - k256: Fixtures/checkpoints/q2-k256 (every row a multiple of 256) converted to an F32 GGUF (by `qwenkit convert
    --outtype f32`, whose output equals llama.cpp's converter; the converter tree needs torch, which is not here);
    its importance matrix is llama-imatrix's own on ../imatrix/calibration.txt (-c 64, 4 chunks, float32 KV cache),
    committed as k256.imatrix.gguf and k256.imatrix.dat.
  - dense, moe: ../quantize-golden/{dense,moe}.f16.gguf (rows that trigger every fallback; matrices trimmed to a few
    rows, so llama-imatrix cannot run them): their importance matrices are made here with gguf-py in llama-imatrix's
    layout (random positive sums, counts per expert, one expert never reached), committed as
    {dense,moe}.imatrix.gguf.

For each model and each TYPE llama-quantize lists (but COPY): `<model>.<TYPE>.json`, the digest of
`llama-quantize --imatrix <imatrix> <model> OUT TYPE 1` (file size and FNV-1a 64, header hash, every KV in order, every
tensor's name, type, dims, offset and FNV-1a 64; the format of ../quantize-golden), or {"error": true, "message": ...}
with llama-quantize's last error line. For k256 also `k256.<TYPE>.plain.json` without an imatrix (the new types),
and the option cases listed in OPTION_CASES (`k256.<case>.json`).

Run from the repository root (qwenkit built, llama.cpp's tools built from llama-cpp-python 0.3.36's sdist):
  PYTHONPATH=LLAMA_CPP/gguf-py python3 Fixtures/scripts/make_imatrix_quantize_goldens.py --llama-bin DIR \
      --qwenkit .build/debug/qwenkit
(the vendored gguf-py: PyPI's gguf 0.19.0 does not know Q1_0 and Q2_0, ids 41 and 42).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import gguf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_quantize_goldens import compact_json, digest  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.normpath(os.path.join(HERE, ".."))
OUT = os.path.join(FIX, "quantize-imatrix")

# llama-quantize's QUANT_OPTIONS names (tools/quantize/quantize.cpp), COPY left out.
TYPES = ["Q1_0", "Q2_0", "Q4_0", "Q4_1", "MXFP4_MOE", "Q5_0", "Q5_1", "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ2_M", "IQ1_S",
         "IQ1_M", "TQ1_0", "TQ2_0", "Q2_K", "Q2_K_S", "IQ3_XXS", "IQ3_S", "IQ3_M", "IQ3_XS", "Q3_K_S", "Q3_K_M",
         "Q3_K_L", "IQ4_NL", "IQ4_XS", "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K", "Q8_0", "F16", "BF16", "F32"]
NEW_TYPES = ["Q1_0", "Q2_0", "MXFP4_MOE", "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ2_M", "IQ1_S", "IQ1_M", "TQ1_0", "TQ2_0",
             "Q2_K_S", "IQ3_XXS", "IQ3_S", "IQ3_M", "IQ3_XS", "IQ4_NL", "IQ4_XS"]

# name -> (llama-quantize options before the paths, type); the imatrix is k256.imatrix.gguf unless the options say.
OPTION_CASES = {
    "include-attn": (["--include-weights", "attn_", "--imatrix", "{imatrix}"], "Q4_K_M"),
    "exclude-ffn": (["--exclude-weights", "ffn_", "--imatrix", "{imatrix}"], "IQ4_XS"),
    "tensor-types": (["--imatrix", "{imatrix}", "--tensor-type", "attn_q=q8_0", "--tensor-type", "ffn_down=iq4_nl",
                      "--tensor-type", r"blk\.1\.attn_k=q5_1"], "Q4_K_M"),
    "override-kv": (["--imatrix", "{imatrix}", "--override-kv", "general.name=str:renamed",
                     "--override-kv", "qwen2.context_length=int:4096", "--override-kv", "general.flag=bool:true",
                     "--override-kv", "general.ratio=float:0.5"], "Q5_K_M"),
    "prune-1": (["--imatrix", "{imatrix}", "--prune-layers", "1"], "Q4_K_M"),
    "prune-0": (["--imatrix", "{imatrix}", "--prune-layers", "0"], "IQ3_S"),
    "dat": (["--imatrix", "{imatrix_dat}"], "IQ3_XXS"),
    "pure": (["--imatrix", "{imatrix}", "--pure"], "Q2_K_S"),
    "output-type": (["--imatrix", "{imatrix}", "--output-tensor-type", "iq4_xs", "--token-embedding-type", "q5_k"],
                    "IQ2_M"),
}


def synthesize_imatrix(model_path, out_path, seed):
    """An imatrix in llama-imatrix's GGUF layout for every blk.* matrix of a model: sums per column (per expert for
    stacked experts) and counts, the last expert of each stacked tensor never reached (count 0)."""
    rng = np.random.default_rng(seed)
    r = gguf.GGUFReader(model_path)
    w = gguf.GGUFWriter(out_path, "imatrix")
    w.add_string("general.type", "imatrix")
    w.add_array("imatrix.datasets", ["synthetic"])
    w.add_uint32("imatrix.chunk_count", 7)
    w.add_uint32("imatrix.chunk_size", 512)
    for t in r.tensors:
        if not t.name.startswith("blk.") or not t.name.endswith(".weight") or len(t.shape) < 2:
            continue
        if "_norm" in t.name or "ffn_gate_inp" in t.name:
            continue
        ne0 = int(t.shape[0])
        n_mat = int(t.shape[2]) if len(t.shape) > 2 else 1
        counts = rng.integers(100, 4000, n_mat).astype(np.float32)
        if n_mat > 1:
            counts[-1] = 0
        sums = (np.exp(rng.standard_normal((n_mat, ne0))) * counts[:, None] * 0.01).astype(np.float32)
        w.add_tensor(t.name + ".in_sum2", sums)
        w.add_tensor(t.name + ".counts", counts.reshape(n_mat, 1))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def run_quantize(bin_dir, args, model, ftype):
    with tempfile.TemporaryDirectory() as tmp:
        dst = os.path.join(tmp, "out.gguf")
        p = subprocess.run([os.path.join(bin_dir, "llama-quantize"), *args, model, dst, ftype, "1"],
                           capture_output=True, text=True)
        if p.returncode != 0 or not os.path.exists(dst):
            lines = [l for l in (p.stderr + p.stdout).splitlines() if "error" in l.lower() or "failed" in l.lower()]
            return {"error": True, "message": lines[-1].strip() if lines else f"exit {p.returncode}"}
        return digest(dst)


def save(name, result):
    with open(os.path.join(OUT, name), "w") as f:
        f.write(compact_json(result))
    print(name, "error: " + result["message"] if result.get("error") else result["file_size"], file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--llama-bin", required=True, help="directory with llama-quantize and llama-imatrix")
    ap.add_argument("--qwenkit", required=True, help="the qwenkit binary (to convert q2-k256 to F32)")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        k256 = os.path.join(tmp, "k256.f32.gguf")
        subprocess.run([args.qwenkit, "convert", os.path.join(FIX, "checkpoints", "q2-k256"), "--outtype", "f32",
                        "-o", k256], check=True)
        imatrix = os.path.join(OUT, "k256.imatrix.gguf")
        imatrix_dat = os.path.join(OUT, "k256.imatrix.dat")
        common = ["-m", k256, "-f", os.path.join(FIX, "imatrix", "calibration.txt"), "-c", "64", "--chunks", "4",
                  "-ctk", "f32", "-ctv", "f32", "-fa", "off", "-t", "2"]
        for path, extra in ((imatrix, []), (imatrix_dat, ["--output-format", "dat"])):
            subprocess.run([os.path.join(args.llama_bin, "llama-imatrix"), *common, "-o", path, *extra], check=True,
                           capture_output=True)
        models = {"k256": (k256, imatrix)}
        for name, seed in (("dense", 1), ("moe", 2)):
            im = os.path.join(OUT, f"{name}.imatrix.gguf")
            synthesize_imatrix(os.path.join(FIX, "quantize-golden", f"{name}.f16.gguf"), im, seed)
            models[name] = (os.path.join(FIX, "quantize-golden", f"{name}.f16.gguf"), im)
        rel = lambda p: os.path.relpath(p, os.getcwd())  # the path llama-quantize records in quantize.imatrix.file
        for model, (path, im) in models.items():
            for t in TYPES:
                save(f"{model}.{t}.json", run_quantize(args.llama_bin, ["--imatrix", rel(im)], path, t))
        for t in NEW_TYPES:
            save(f"k256.{t}.plain.json", run_quantize(args.llama_bin, [], k256, t))
        for case, (opts, t) in OPTION_CASES.items():
            opts = [o.format(imatrix=rel(imatrix), imatrix_dat=rel(imatrix_dat)) for o in opts]
            save(f"k256.{case}.json", run_quantize(args.llama_bin, opts, k256, t))
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump({"types": TYPES, "new_types": NEW_TYPES,
                   "option_cases": {k: {"options": v[0], "type": v[1]} for k, v in OPTION_CASES.items()}}, f, indent=1)
    print("gguf", gguf.__version__ if hasattr(gguf, "__version__") else "?", "numpy", np.__version__, file=sys.stderr)


if __name__ == "__main__":
    main()
