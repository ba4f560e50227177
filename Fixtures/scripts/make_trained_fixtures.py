#!/usr/bin/env python3
"""llama-perplexity's figures for the trained checkpoint (train_small_model.py): the goldens of the trained-model tests
and the numbers of README's quantization-quality table.

    python3 Fixtures/scripts/make_trained_fixtures.py --llama-bin /path/to/llama.cpp/build/bin \\
        --llama-cpp /path/to/llama.cpp --qwenkit .build/release/qwenkit [--readme]

The checkpoint Fixtures/trained/qwen2-s256 is decompressed with the real tokenizer into a scratch directory and
converted to an F32 GGUF by qwenkit and by llama.cpp's convert_hf_to_gguf.py (the script stops unless both write the
same bytes). llama-perplexity runs on the float32 path (make_perplexity_fixtures.py's flags) over the held-out text
Fixtures/trained/eval.txt; llama-quantize makes the quantized models. Written to Fixtures/perplexity:
    qwen2-s256.c128.kld-base.zst       --kl-divergence-base, -c 128 --chunks 2: 126 scored positions, enough for
                                       llama-perplexity to print its statistics (from 100); zstd: the ids without
                                       an embedding row share one log-probability, so 38 MB compress to ~2 MB; its
                                       .txt: what llama-perplexity printed, the perplexity of that run
    qwen2-s256.<Q>.c128.kld.txt        --kl-divergence against that base for Q in TYPES (lower case), and q4_k_m-f32
                                       (the Q4_K_M model requantized to F32: quantized weights on the float32 path)
    qwen2-s256.quantized.sha256        the SHA-256 of those models (tests make them with qwenkit's quantizer)
Fixtures/trained/qwen2-s256.imatrix.gguf: `qwenkit imatrix` of the F32 model on 16 chunks of 256 tokens of the
training text (what the types that need one are quantized with in measure_verify.py --trained and the tests).
And Fixtures/logit-golden/qwen2-s256.<at>.top64.safetensors: make_logit_goldens.py's compact goldens (K = 64;
transformers, float32, eager) of four 64-token windows of the held-out text, starting at token <at> (verify's
thresholds are calibrated on them: measure_verify.py --trained).
With --readme it also runs the whole text at -c 512 (every chunk): llama-perplexity's PPL and a base file, and for
every type (and README_TYPES, quantized with the importance matrix) llama-perplexity's and qwenkit's KL divergence
against that base; prints README's table.
"""
import argparse
import hashlib
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

import zstandard

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from make_imatrix_statistics_fixtures import drained_environment  # noqa: E402
from make_perplexity_fixtures import FLOAT_PATH, run  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
REPO = ROOT.parent
OUT = ROOT / "perplexity"
NAME = "qwen2-s256"
CHECKPOINT = ROOT / "trained" / NAME
TEXT = "Fixtures/trained/eval.txt"
IMATRIX = ROOT / "trained" / f"{NAME}.imatrix.gguf"
GOLDEN_WINDOWS = [0, 1800, 3600, 5400]
TYPES = ["Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "IQ4_XS", "Q4_0", "Q3_K_M", "Q2_K"]
README_TYPES = ["IQ3_M", "IQ3_XXS", "IQ2_M", "IQ2_XXS", "IQ1_M"]   # with the importance matrix


def sha256(path):
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


def unzstd(source, target):
    with open(source, "rb") as f, open(target, "wb") as out:
        zstandard.ZstdDecompressor().copy_stream(f, out)


def checkpoint(directory):
    """The trained checkpoint as an HF directory: its files, the weights and the real tokenizer decompressed."""
    directory.mkdir()
    for f in CHECKPOINT.iterdir():
        if f.suffix == ".zst":
            unzstd(f, directory / f.stem)
        else:
            shutil.copy(f, directory / f.name)
    unzstd(ROOT / "tokenizers" / "qwen2" / "tokenizer.json.zst", directory / "tokenizer.json")
    return directory


def goldens(hf):
    import make_logit_goldens
    from tokenizers import Tokenizer
    model, _, version = make_logit_goldens.load(str(hf))
    text = (REPO / TEXT).read_text(encoding="utf-8")
    ids = Tokenizer.from_file(str(hf / "tokenizer.json")).encode(text, add_special_tokens=False).ids
    versions = (version, make_logit_goldens.torch.__version__)
    for at in GOLDEN_WINDOWS:
        path = ROOT / "logit-golden" / f"{NAME}.{at}.top64.safetensors"
        make_logit_goldens.write_golden(path, str(hf), model, ids[at:at + 64], 64, versions)
        print(path.relative_to(REPO), path.stat().st_size)


def figures(text):
    """The summary figures of a --kl-divergence run: {label: first number}."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"^([^:\[]+?)\s*:\s*(-?[0-9.]+)", line)
        if m:
            out.setdefault(m.group(1).strip(), float(m.group(2)))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--llama-bin", required=True, type=pathlib.Path)
    parser.add_argument("--llama-cpp", required=True, type=pathlib.Path, help="llama.cpp's source (convert_hf_to_gguf.py, gguf-py)")
    parser.add_argument("--qwenkit", required=True, type=pathlib.Path)
    parser.add_argument("--readme", action="store_true")
    args = parser.parse_args()
    perplexity, quantize = str(args.llama_bin / "llama-perplexity"), str(args.llama_bin / "llama-quantize")
    qwenkit = str(args.qwenkit.resolve())
    with tempfile.TemporaryDirectory() as scratch:
        tmp = pathlib.Path(scratch)
        environment = drained_environment(scratch)
        hf = checkpoint(tmp / NAME)
        f32, theirs = tmp / f"{NAME}.f32.gguf", tmp / f"{NAME}.llama.f32.gguf"
        subprocess.run([qwenkit, "convert", str(hf), "--outtype", "f32", "-o", str(f32), "--quiet"], check=True)
        env = dict(environment, PYTHONPATH=str(args.llama_cpp / "gguf-py"))
        subprocess.run([sys.executable, str(args.llama_cpp / "convert_hf_to_gguf.py"), str(hf), "--outtype", "f32",
                        "--outfile", str(theirs)], check=True, capture_output=True, env=env)
        if sha256(f32) != sha256(theirs):
            sys.exit("qwenkit convert and convert_hf_to_gguf.py wrote different F32 files")
        model = str(f32)
        goldens(hf)
        unzstd(ROOT / "trained" / "train.txt.zst", tmp / "train.txt")
        subprocess.run([qwenkit, "imatrix", model, "-f", str(tmp / "train.txt"), "-c", "256", "--chunks", "16", "-t", "2",
                        "-o", str(IMATRIX)], check=True, stderr=subprocess.DEVNULL)
        ppl = [perplexity, "-m", model, "-f", TEXT] + FLOAT_PATH
        base = tmp / f"{NAME}.c128.kld-base"
        run(ppl + ["-c", "128", "--chunks", "2", "--kl-divergence-base", str(base)], OUT / f"{NAME}.c128.kld-base.txt",
            "Final estimate: PPL", environment, scratch)
        (OUT / f"{NAME}.c128.kld-base.zst").write_bytes(zstandard.ZstdCompressor(level=19).compress(base.read_bytes()))
        print(f"{NAME}.c128.kld-base.zst", (OUT / f"{NAME}.c128.kld-base.zst").stat().st_size)

        models, hashes = {}, []
        for t in TYPES:
            path = tmp / f"{NAME}.{t.lower()}.gguf"
            subprocess.run([quantize, model, str(path), t], check=True, capture_output=True)
            models[t.lower()] = path
            hashes.append(f"{sha256(path)}  {NAME}.{t.lower()}.gguf")
        path = tmp / f"{NAME}.q4_k_m-f32.gguf"
        subprocess.run([quantize, "--allow-requantize", str(models["q4_k_m"]), str(path), "F32"], check=True, capture_output=True)
        models["q4_k_m-f32"] = path
        hashes.append(f"{sha256(path)}  {NAME}.q4_k_m-f32.gguf")
        (OUT / f"{NAME}.quantized.sha256").write_text("\n".join(hashes) + "\n")
        for q, path in models.items():
            run([perplexity, "-m", str(path), "--kl-divergence-base", str(base), "--kl-divergence", "-c", "128"] + FLOAT_PATH,
                OUT / f"{NAME}.{q}.c128.kld.txt", "Same top p:", environment, scratch)

        if args.readme:
            full = tmp / f"{NAME}.c512.kld-base"
            run(ppl + ["--kl-divergence-base", str(full)], OUT / f"{NAME}.c512.ppl.txt", "Final estimate: PPL", environment, scratch)
            print("| type | llama.cpp PPL | qwenkit PPL | llama.cpp mean KLD | qwenkit mean KLD | llama.cpp same top p | qwenkit same top p |")
            print("|---|---:|---:|---:|---:|---:|---:|")
            for t in README_TYPES:
                path = tmp / f"{NAME}.{t.lower()}.imatrix.gguf"
                subprocess.run([quantize, "--imatrix", str(IMATRIX), model, str(path), t], check=True, capture_output=True)
                models[t.lower()] = path
            for q in [t.lower() for t in TYPES + README_TYPES]:
                llama = subprocess.run([perplexity, "-m", str(models[q]), "--kl-divergence-base", str(full), "--kl-divergence"]
                                       + FLOAT_PATH, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=environment).stdout.decode()
                ours = subprocess.run([qwenkit, "perplexity", str(models[q]), "--kl-divergence-base", str(full), "--kl-divergence",
                                       "-t", "2"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT).stdout.decode()
                a, b = figures(llama), figures(ours)
                print(f"| {q.upper()} | {a['Mean PPL(Q)']:.3f} | {b['Mean PPL(Q)']:.3f} | {a['Mean    KLD']:.5f} | "
                      f"{b['Mean    KLD']:.5f} | {a['Same top p']:.2f}% | {b['Same top p']:.2f}% |")


if __name__ == "__main__":
    main()
