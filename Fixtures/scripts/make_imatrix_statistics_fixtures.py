#!/usr/bin/env python3
"""llama-imatrix's `--show-statistics` tables, the reference for `qwenkit imatrix --show-statistics`.

    python3 Fixtures/scripts/make_imatrix_statistics_fixtures.py --llama-bin /path/to/llama.cpp/build/bin

llama-imatrix is the one make_imatrix_fixtures.py uses (built from llama-cpp-python 0.3.36's sdist, as that script
says). For five of the matrices it made, run from the repository root (the path is printed in the first line):
    q2-tied.c64.statistics.txt      --in-file Fixtures/imatrix/q2-tied.c64.imatrix.gguf  (dense, one count each)
    q2moe.c64.statistics.txt        --in-file Fixtures/imatrix/q2moe.c64.imatrix.gguf    (per-expert counts)
    q2moe.c64.output.statistics.txt --in-file Fixtures/imatrix/q2moe.c64.output.imatrix.gguf  (with output.weight,
                                    outside the layers: "-")
    q2-tied.c64.dat.statistics.txt  --in-file Fixtures/imatrix/q2-tied.c64.imatrix.dat -c 64  (legacy layout: its
                                    values are scaled by the chunk size, -c, when they are loaded)
    q2moe.c64.dat.statistics.txt    --in-file Fixtures/imatrix/q2moe.c64.imatrix.dat -c 64  (legacy: one count for all
                                    experts together)
each with `-m Fixtures/convert-golden/<model>.f32.gguf` (llama-imatrix wants one; it does not load it here).

Each file holds llama-imatrix's output from "Computing statistics" on: the per-tensor table and the per-layer
weighted averages. It logs them through common_log, at INFO level, so to stderr; `--no-log-prefix
--no-log-timestamps` drop the "I " prefix and the timestamps common_init turns on. That logger writes from a worker
thread and is leaked on purpose (llama.cpp issue 22142), so the process usually exits before the worker has printed
the tables (llama-imatrix --show-statistics prints nothing at all when run plainly). The script therefore compiles a
tiny shared library (cc) whose destructor sleeps two seconds at exit, preloads it, and checks that both tables are
complete (as many rows as the counts in their titles) before writing a file.
"""
import argparse
import os
import pathlib
import re
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "imatrix"
CASES = {
    "q2-tied.c64": ("q2-tied.c64.imatrix.gguf", "q2-tied", []),
    "q2moe.c64": ("q2moe.c64.imatrix.gguf", "q2moe", []),
    "q2moe.c64.output": ("q2moe.c64.output.imatrix.gguf", "q2moe", []),
    "q2-tied.c64.dat": ("q2-tied.c64.imatrix.dat", "q2-tied", ["-c", "64"]),
    "q2moe.c64.dat": ("q2moe.c64.imatrix.dat", "q2moe", ["-c", "64"]),
}
DRAIN = "#include <unistd.h>\n__attribute__((destructor)) static void drain(void) { sleep(2); }\n"


def drained_environment(directory):
    """Compiles the shim (DRAIN) into `directory` and returns the environment that preloads it, so that a llama.cpp
    tool's leaked log thread gets two seconds to print everything before the process ends (also used by
    make_perplexity_fixtures.py)."""
    drain = pathlib.Path(directory) / "drain.so"
    (pathlib.Path(directory) / "drain.c").write_text(DRAIN)
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(drain), str(pathlib.Path(directory) / "drain.c")], check=True)
    return dict(os.environ, LD_PRELOAD=str(drain))


def complete(text):
    """Whether both tables have as many rows as their titles announce, and the output its final empty line."""
    tensors = re.search(r"^Computing statistics for .* \((\d+) tensors\)\n\n.*\n=+\n((?:.*\n)*?)\n", text)
    layers = re.search(r"^Computing weighted average statistics per layer \((\d+) layers\)\n\n.*\n=+\n((?:.*\n)*?)\n$",
                       text, re.M)
    return (tensors is not None and layers is not None
            and tensors[2].count("\n") == int(tensors[1]) and layers[2].count("\n") == int(layers[1]))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--llama-bin", required=True, type=pathlib.Path, help="directory with llama-imatrix")
    args = parser.parse_args()
    tool = args.llama_bin / "llama-imatrix"
    with tempfile.TemporaryDirectory() as tmp:
        environment = drained_environment(tmp)
        for stem, (matrix, model, flags) in CASES.items():
            command = [str(tool), "--show-statistics", "--no-log-prefix", "--no-log-timestamps",
                       "--in-file", f"Fixtures/imatrix/{matrix}", "-m", f"Fixtures/convert-golden/{model}.f32.gguf"] + flags
            run = subprocess.run(command, capture_output=True, cwd=ROOT.parent, env=environment)
            output = (run.stdout + run.stderr).decode()
            start = output.find("Computing statistics")
            if run.returncode != 0 or start < 0 or not complete(output[start:]):
                sys.exit(f"llama-imatrix failed or printed incomplete tables for {stem}:\n{output}")
            out = OUT / f"{stem}.statistics.txt"
            out.write_text(output[start:])
            print(out.relative_to(ROOT.parent), out.stat().st_size)


if __name__ == "__main__":
    main()
