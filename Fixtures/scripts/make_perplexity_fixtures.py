#!/usr/bin/env python3
"""llama-perplexity's perplexities, base files and KL divergences: the reference for `qwenkit perplexity` (issue 14).

    python3 Fixtures/scripts/make_perplexity_fixtures.py --llama-bin /path/to/llama.cpp/build/bin \\
        --qwenkit .build/debug/qwenkit

llama-perplexity and llama-quantize are built from llama-cpp-python 0.3.36's sdist as make_imatrix_fixtures.py says.
Every run is from the repository root, on Fixtures/imatrix/calibration.txt (24,301 tokens with the fixtures' 320-token
vocabulary), CPU only, two threads, the float32 path our runner must agree with (a float32 KV cache, `-ctk f32 -ctv
f32`, no flash attention), for the F32 conversions of two fixture checkpoints, q2-tied (dense) and q2moe (4 experts,
top-2). Per model M, in Fixtures/perplexity:
    M.c64.ppl.txt          -c 64 --chunks 4: the running estimates and "Final estimate: PPL = X +/- Y"
    M.c128.ppl.txt         -c 128 --chunks 8
    M.c512.ppl.txt         (q2-tied only) the defaults: -c 512, every chunk (47)
    M.c64.kld-base         --kl-divergence-base, -c 64 --chunks 4 (its .txt: what it printed, the PPL of that path)
    M.c128.kld-base        the same with -c 128 --chunks 3
    M.<Q>.c64.kld.txt      --kl-divergence of model Q against M.c64.kld-base, for Q in
                               q8_0, q4_0   llama-quantize's Q8_0 and Q4_0 of M (not committed: the tests make
                                            them with qwenkit's quantizer, byte-identical: quantized.sha256)
                               q4_0-f32     that Q4_0 model requantized to F32 (--allow-requantize): quantized
                                            weights on the float32 path, so that ours and llama.cpp's logits differ
                                            by float rounding only (on Q8_0 and Q4_0 weights llama.cpp rounds the
                                            activations to 8 bits first, which ours does not)
                               f32          M itself (its own base: the 16-bit quantization of the base alone)
    M.q4_0.c128.kld.txt    --kl-divergence of the Q4_0 model against M.c128.kld-base
    M.c64.qwenkit.kld-base the base file `qwenkit perplexity M -f … -c 64 --chunks 4 --kl-divergence-base` writes
    M.<Q>.c64.qwenkit-base.kld.txt   llama-perplexity --kl-divergence of q4_0 and q4_0-f32 against that file: the
                                     other direction (their reader on our file)
    quantized.sha256       the SHA-256 of the quantized models above

llama.cpp logs through a leaked worker thread that may lose its last lines at exit (llama.cpp issue 22142); the runs
preload make_imatrix_statistics_fixtures.py's shim that delays the exit, pass --no-log-prefix --no-log-timestamps,
merge stderr into stdout (in the order printed), and check that the expected last line is there before writing.
"""
import argparse
import hashlib
import pathlib
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from make_imatrix_statistics_fixtures import drained_environment  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
REPO = ROOT.parent
OUT = ROOT / "perplexity"
TEXT = "Fixtures/imatrix/calibration.txt"
MODELS = ["q2-tied", "q2moe"]
FLOAT_PATH = ["-t", "2", "-ngl", "0", "-ctk", "f32", "-ctv", "f32", "-fa", "off", "--seed", "1",
              "--no-log-prefix", "--no-log-timestamps"]


def run(command, out, must_contain, environment, scratch=None):
    """Runs `command` from the repository root; writes "$ command" (the scratch directory left out of paths) and its
    merged output to `out`."""
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=REPO, env=environment)
    text = result.stdout.decode()
    shown = [pathlib.Path(command[0]).name] + [a.replace(scratch + "/", "") if scratch else a for a in command[1:]]
    if result.returncode != 0 or must_contain not in text:
        sys.exit(f"{' '.join(shown)} failed or its output lacks {must_contain!r}:\n{text}")
    if out is not None:
        out.write_text("$ " + " ".join(shown) + "\n" + text)
        print(out.relative_to(REPO), out.stat().st_size)


def sha256(path):
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--llama-bin", required=True, type=pathlib.Path, help="directory with llama-perplexity and llama-quantize")
    parser.add_argument("--qwenkit", required=True, type=pathlib.Path, help="the qwenkit binary (for the base file it writes)")
    args = parser.parse_args()
    perplexity = str(args.llama_bin / "llama-perplexity")
    quantize = str(args.llama_bin / "llama-quantize")
    OUT.mkdir(exist_ok=True)
    rel = lambda p: str(pathlib.Path(p).relative_to(REPO))
    hashes = []
    with tempfile.TemporaryDirectory() as tmp:
        environment = drained_environment(tmp)
        for m in MODELS:
            model = f"Fixtures/convert-golden/{m}.f32.gguf"
            ppl = [perplexity, "-m", model, "-f", TEXT] + FLOAT_PATH
            runs = [("c64", ["-c", "64", "--chunks", "4"]), ("c128", ["-c", "128", "--chunks", "8"])]
            if m == "q2-tied":
                runs.append(("c512", []))
            for name, flags in runs:
                run(ppl + flags, OUT / f"{m}.{name}.ppl.txt", "Final estimate: PPL", environment)
            for name, flags in [("c64", ["-c", "64", "--chunks", "4"]), ("c128", ["-c", "128", "--chunks", "3"])]:
                base = OUT / f"{m}.{name}.kld-base"
                run(ppl + flags + ["--kl-divergence-base", rel(base)], OUT / f"{m}.{name}.kld-base.txt", "Final estimate: PPL",
                    environment)

            models = {"f32": model}
            for q in ["q8_0", "q4_0"]:
                path = pathlib.Path(tmp) / f"{m}.{q}.gguf"
                subprocess.run([quantize, model, str(path), q.upper()], check=True, capture_output=True, cwd=REPO)
                models[q] = str(path)
                hashes.append(f"{sha256(path)}  {m}.{q}.gguf")
            path = pathlib.Path(tmp) / f"{m}.q4_0-f32.gguf"
            subprocess.run([quantize, "--allow-requantize", models["q4_0"], str(path), "F32"], check=True, capture_output=True, cwd=REPO)
            models["q4_0-f32"] = str(path)
            hashes.append(f"{sha256(path)}  {m}.q4_0-f32.gguf")

            def kld(q, base, out, context):
                command = [perplexity, "-m", models[q], "--kl-divergence-base", rel(base), "--kl-divergence",
                           "-c", context] + FLOAT_PATH
                run(command, out, "Same top p:", environment, scratch=tmp)

            for q in ["q8_0", "q4_0", "q4_0-f32", "f32"]:
                kld(q, OUT / f"{m}.c64.kld-base", OUT / f"{m}.{q}.c64.kld.txt", "64")
            kld("q4_0", OUT / f"{m}.c128.kld-base", OUT / f"{m}.q4_0.c128.kld.txt", "128")

            ours = OUT / f"{m}.c64.qwenkit.kld-base"
            subprocess.run([str(args.qwenkit.resolve()), "perplexity", model, "-f", TEXT, "-c", "64", "--chunks", "4", "-t", "2",
                            "--kl-divergence-base", rel(ours)], check=True, capture_output=True, cwd=REPO)
            print(rel(ours), ours.stat().st_size)
            for q in ["q4_0", "q4_0-f32"]:
                kld(q, ours, OUT / f"{m}.{q}.c64.qwenkit-base.kld.txt", "64")
    (OUT / "quantized.sha256").write_text("\n".join(hashes) + "\n")


if __name__ == "__main__":
    main()
