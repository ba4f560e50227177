#!/usr/bin/env python3
"""Measures `qwenkit verify` on every quantize type of the fixture checkpoints: the numbers behind the default
thresholds (README, "Verifying logits").

For each checkpoint in Fixtures/checkpoints it converts the HF directory to an F32 GGUF (`qwenkit convert --outtype
f32`), quantizes that to every TYPE (`qwenkit quantize`), and runs `qwenkit verify --json` of each against the
checkpoint's full goldens in Fixtures/logit-golden (all positions together). Prints one markdown row per
checkpoint and type: mean KL (over all positions, and of the worst golden: limits apply to each golden and to the
total), max KL, top-1 agreement and top-5 overlap (of the worst golden), max abs error, and the verdict under the
defaults.

    python3 Fixtures/scripts/measure_verify.py --qwenkit .build/release/qwenkit [--work DIR]
    python3 Fixtures/scripts/measure_verify.py --qwenkit .build/release/qwenkit --trained

With --trained it measures the trained checkpoint instead (Fixtures/trained/qwen2-s256, decompressed): every type
llama-quantize offers (ALL_TYPES), quantized with its importance matrix (Fixtures/trained/qwen2-s256.imatrix.gguf),
against its compact goldens (Fixtures/logit-golden/qwen2-s256.*.top64.safetensors).
"""
import argparse, glob, json, os, subprocess, sys, tempfile

TYPES = ["F32", "F16", "BF16", "Q8_0", "Q6_K", "Q5_K_M", "Q5_K_S", "Q5_1", "Q5_0", "Q4_K_M", "Q4_K_S", "Q4_1", "Q4_0",
         "Q3_K_L", "Q3_K_M", "Q3_K_S", "Q2_K"]
CHECKPOINTS = ["q2-tied", "q2-untied", "q2-yarn", "q2moe", "q2-k256"]
ALL_TYPES = TYPES + ["Q4_K_S", "IQ4_XS", "IQ4_NL", "Q3_K_S", "IQ3_M", "IQ3_S", "IQ3_XS", "IQ3_XXS", "Q2_K_S", "IQ2_M",
                     "IQ2_S", "IQ2_XS", "IQ2_XXS", "IQ1_M", "IQ1_S", "TQ2_0", "TQ1_0", "MXFP4_MOE", "Q2_0", "Q1_0"]
ALL_TYPES = list(dict.fromkeys(ALL_TYPES))
TRAINED = "qwen2-s256"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--qwenkit", required=True)
    parser.add_argument("--work", help="directory for the GGUF files (default: a temporary one)")
    parser.add_argument("--json", action="store_true", help="print the measurements as JSON lines instead")
    parser.add_argument("--trained", action="store_true", help="measure the trained checkpoint on every type")
    args = parser.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    work = args.work or tempfile.mkdtemp(prefix="measure-verify-")
    os.makedirs(work, exist_ok=True)
    q = os.path.abspath(args.qwenkit)
    if not args.json:
        print("| checkpoint | type | mean KL | worst golden | max KL | top-1 | top-5 | max abs err | defaults |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---|")
    for ckpt in [TRAINED] if args.trained else CHECKPOINTS:
        src = os.path.join(root, "Fixtures/checkpoints", ckpt)
        imatrix = []
        if args.trained:
            sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
            import pathlib
            from make_trained_fixtures import checkpoint
            src = os.path.join(work, ckpt)
            if not os.path.exists(src):
                checkpoint(pathlib.Path(src))
        f32 = os.path.join(work, f"{ckpt}.f32.gguf")
        if not os.path.exists(f32):
            subprocess.run([q, "convert", src, "--outtype", "f32", "-o", f32, "--quiet"], check=True)
        if args.trained:
            imatrix = ["--imatrix", os.path.join(root, f"Fixtures/trained/{ckpt}.imatrix.gguf")]
            goldens = sorted(glob.glob(os.path.join(root, "Fixtures/logit-golden", f"{ckpt}.*.top64.safetensors")))
        else:
            goldens = sorted(g for g in glob.glob(os.path.join(root, "Fixtures/logit-golden", f"{ckpt}.*.safetensors"))
                             if ".top" not in g)
        for t in ALL_TYPES if args.trained else TYPES:
            out = f32 if t == "F32" else os.path.join(work, f"{ckpt}.{t.lower()}.gguf")
            if not os.path.exists(out):
                subprocess.run([q, "quantize"] + imatrix + [f32, out, t], check=True, stderr=subprocess.DEVNULL)
            run = subprocess.run([q, "verify", "--json", out] + goldens, capture_output=True, text=True)
            if run.returncode not in (0, 1):
                sys.exit(f"verify {out}: status {run.returncode}: {run.stderr.strip()}")
            doc = json.loads(run.stdout)
            m = doc["total"]["metrics"]
            files = [f["metrics"] for f in doc["files"]]
            worst = {"worst_mean_kl": max(f["mean_kl"] for f in files),
                     "worst_top1": min(f["top1_agreement"] for f in files),
                     "worst_top5": min(f["top5_overlap"] for f in files)}
            if args.json:
                print(json.dumps({"checkpoint": ckpt, "type": t, "passed": doc["passed"], **m, **worst}))
            else:
                print(f"| {ckpt} | {t} | {m['mean_kl']:.2g} | {worst['worst_mean_kl']:.2g} | {m['max_kl']:.2g} | "
                      f"{100 * worst['worst_top1']:.0f}% | {100 * worst['worst_top5']:.0f}% | {m['max_abs_error']:.2g} | "
                      f"{'pass' if doc['passed'] else 'FAIL'} |")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
