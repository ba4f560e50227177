#!/usr/bin/env python3
"""Importance matrices made by llama.cpp's own llama-imatrix, the reference for `qwenkit imatrix` (issue 13).

    python3 Fixtures/scripts/make_imatrix_fixtures.py --llama-bin /path/to/llama.cpp/build/bin

llama-imatrix is built from llama-cpp-python 0.3.36's sdist (`pip download --no-deps --no-binary llama-cpp-python
llama-cpp-python==0.3.36`, then in vendor/llama.cpp: `cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
-DLLAMA_BUILD_TOOLS=ON -DBUILD_SHARED_LIBS=OFF -DGGML_NATIVE=ON -DLLAMA_CURL=OFF` and `cmake --build build --target
llama-imatrix llama-quantize llama-perplexity`; cmake and ninja from PyPI).

Writes Fixtures/imatrix/<model>.<variant>.imatrix.{gguf,dat} and <model>.<variant>.log (llama-imatrix's stdout and
stderr: its running perplexity and the chunk count), for the F32 conversions of two fixture checkpoints
(Fixtures/convert-golden/q2-tied.f32.gguf, dense; q2moe.f32.gguf, 4 experts top-2: per-expert sums and counts) on
Fixtures/imatrix/calibration.txt (a copy of README prose) with a context of 64 tokens, one thread, CPU only, the
float32 path (a float32 KV cache, `-ctk f32 -ctv f32`, and no flash attention: llama-imatrix's default F16 cache moves
the sums by up to 1e-3):
    c64            4 chunks, GGUF output (general.type imatrix, imatrix.datasets/chunk_count/chunk_size,
                   <weight>.in_sum2 and <weight>.counts F32 tensors)
    c64.dat        the same, --output-format dat (the legacy binary layout)
    c64.output     --process-output (output.weight too)
    c64.from1      --chunk 1 --chunks 2 (skip the first chunk)
and, from those, matrices combined with --in-file:
    q2moe.combined      --in-file q2moe.c64.imatrix.gguf --in-file q2moe.c64.from1.imatrix.gguf -c 64 (no text)
    q2moe.combined-dat  --in-file q2moe.c64.imatrix.dat --in-file q2moe.c64.from1.imatrix.gguf -c 64 (no text)
    q2-tied.continued   --in-file q2-tied.c64.imatrix.gguf, then -f calibration.txt -c 64 --chunks 2
"""
import argparse
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "imatrix"
TEXT = OUT / "calibration.txt"
MODELS = {"q2-tied": ROOT / "convert-golden" / "q2-tied.f32.gguf", "q2moe": ROOT / "convert-golden" / "q2moe.f32.gguf"}
VARIANTS = {
    "c64": (["--chunks", "4"], "gguf"),
    "c64.dat": (["--chunks", "4", "--output-format", "dat"], "dat"),
    "c64.output": (["--chunks", "4", "--process-output"], "gguf"),
    "c64.from1": (["--chunk", "1", "--chunks", "2"], "gguf"),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--llama-bin", required=True, type=pathlib.Path, help="directory with llama-imatrix")
    args = parser.parse_args()
    tool = args.llama_bin / "llama-imatrix"
    for model_name, model in MODELS.items():
        for variant, (flags, extension) in VARIANTS.items():
            stem = f"{model_name}.{variant}" if not variant.endswith(".dat") else f"{model_name}.{variant[:-4]}"
            out = OUT / f"{stem}.imatrix.{extension}"
            # Paths relative to the repository root, which is where the datasets key then points.
            rel = lambda p: str(p.relative_to(ROOT.parent))
            command = [str(tool), "-m", rel(model), "-f", rel(TEXT), "-c", "64", "-t", "1", "-ngl", "0", "-ctk", "f32", "-ctv", "f32", "-fa", "off",
                       "--seed", "1", "-o", rel(out)] + flags
            run = subprocess.run(command, capture_output=True, text=True, cwd=ROOT.parent)
            log = OUT / f"{stem}{'.dat' if extension == 'dat' else ''}.log"
            log.write_text("$ llama-imatrix " + " ".join(command[1:]) + "\n"
                           + run.stdout + run.stderr)
            if run.returncode != 0 or not out.exists():
                sys.exit(f"llama-imatrix failed for {model_name} {variant}; see {log}")
            print(out.relative_to(ROOT.parent), out.stat().st_size)

    m = lambda name: f"Fixtures/imatrix/{name}"
    combined = {
        # (llama-imatrix wants -m even when it only combines; it does not load the model then)
        "q2moe.combined": ["-m", "Fixtures/convert-golden/q2moe.f32.gguf",
                           "--in-file", m("q2moe.c64.imatrix.gguf"), "--in-file", m("q2moe.c64.from1.imatrix.gguf")],
        "q2moe.combined-dat": ["-m", "Fixtures/convert-golden/q2moe.f32.gguf",
                               "--in-file", m("q2moe.c64.imatrix.dat"), "--in-file", m("q2moe.c64.from1.imatrix.gguf")],
        "q2-tied.continued": ["--in-file", m("q2-tied.c64.imatrix.gguf"), "-m", "Fixtures/convert-golden/q2-tied.f32.gguf",
                              "-f", "Fixtures/imatrix/calibration.txt", "--chunks", "2", "-t", "1", "-ngl", "0",
                              "-ctk", "f32", "-ctv", "f32", "-fa", "off"],
    }
    for stem, flags in combined.items():
        out = OUT / f"{stem}.imatrix.gguf"
        command = [str(tool), "-c", "64", "-o", str(out.relative_to(ROOT.parent))] + flags
        run = subprocess.run(command, capture_output=True, text=True, cwd=ROOT.parent)
        log = OUT / f"{stem}.log"
        log.write_text("$ llama-imatrix " + " ".join(command[1:]) + "\n" + run.stdout + run.stderr)
        if run.returncode != 0 or not out.exists():
            sys.exit(f"llama-imatrix failed for {stem}; see {log}")
        print(out.relative_to(ROOT.parent), out.stat().st_size)


if __name__ == "__main__":
    main()
