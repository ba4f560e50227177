#!/usr/bin/env python3
"""Benchmark `qwenkit decode`: MB of text out per CPU-second, for each input format, two binaries side by side.

Inputs are made by `qwenkit encode` (the --new binary) from the tokenizer benchmark corpora in WORKDIR
(default /tmp/qwenkit-bench: mixed.txt ~7.5 MB, cjk.txt ~3 MB; made with `python3 Fixtures/bench/make_corpus.py`
if absent), for each corpus:
  text-lines   `encode --lines`: one short document per input line
  text-long    `encode`: the whole corpus as one line of ids (mixed: ~2.2M ids)
  jsonl-lines  `encode --lines --format jsonl`
  jsonl-long   `encode --format jsonl`: one JSONL record of ~2M ids (mixed)
  u32          `encode --format u32`
Each input is repeated --copies times (default 8: ~60 MB of text out for mixed) so that the run time is well
above the start-up time (loading the tokenizer).

Each (binary, input) is run --repeat times (default 5) as a fresh process with stdout to /dev/null; the CPU time
is the child's user + system time (wait4 rusage), the median is reported. The same command on an empty input is
measured too and subtracted ("net", the decoding itself); "raw" includes start-up. Before timing, the outputs of
both binaries are compared byte for byte (a difference is reported and fails the run).

Usage:
  python3 Fixtures/bench/bench_decode.py [--old PATH] [--new PATH] [--workdir DIR] [--copies K] [--repeat R]
         [--corpora mixed,cjk] [--formats text-lines,...]
--old is optional (without it only the new binary is measured). MB = 10^6 bytes of decoded UTF-8 text.
"""
import argparse
import hashlib
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

FORMATS = {
    # name: (encode arguments, decode --format)
    "text-lines": (["--lines"], "text"),
    "text-long": ([], "text"),
    "jsonl-lines": (["--lines", "--format", "jsonl"], "jsonl"),
    "jsonl-long": (["--format", "jsonl"], "jsonl"),
    "u32": (["--format", "u32"], "u32"),
}


def cpu_seconds(argv, stdout=subprocess.DEVNULL):
    """Runs argv; returns (exit status, user + system CPU seconds of the child)."""
    proc = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read()
    proc.stderr.close()
    if proc.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed ({proc.returncode}): {err.decode(errors='replace')}")
    return usage.ru_utime + usage.ru_stime


def digest(argv):
    h = hashlib.sha256()
    n = 0
    with subprocess.Popen(argv, stdout=subprocess.PIPE) as proc:
        for block in iter(lambda: proc.stdout.read(1 << 20), b""):
            h.update(block)
            n += len(block)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed ({proc.returncode})")
    return h.hexdigest(), n


def make_inputs(qwenkit, workdir, corpus, formats, copies):
    source = os.path.join(workdir, corpus + ".txt")
    out = os.path.join(workdir, "decode-bench")
    os.makedirs(out, exist_ok=True)
    inputs = {}
    for name in formats:
        encode_args, decode_format = FORMATS[name]
        path = os.path.join(out, f"{corpus}.{name}.x{copies}")
        if not os.path.exists(path):
            once = path + ".once"
            subprocess.run([qwenkit, "encode", *encode_args, source, "-o", once], check=True)
            with open(once, "rb") as f:
                data = f.read()
            with open(path + ".tmp", "wb") as f:
                for _ in range(copies):
                    f.write(data)
            os.replace(path + ".tmp", path)
            os.remove(once)
        empty = os.path.join(out, "empty")
        open(empty, "wb").close()
        inputs[name] = (path, decode_format, empty)
    return inputs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--old", help="the binary to compare against (e.g. one built from the commit before)")
    ap.add_argument("--new", default=os.environ.get("QWENKIT", os.path.join(REPO, ".build/release/qwenkit")))
    ap.add_argument("--workdir", default="/tmp/qwenkit-bench")
    ap.add_argument("--copies", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--corpora", default="mixed,cjk")
    ap.add_argument("--formats", default=",".join(FORMATS))
    args = ap.parse_args()

    corpora = args.corpora.split(",")
    formats = args.formats.split(",")
    for name in formats:
        if name not in FORMATS:
            sys.exit(f"unknown format {name} (one of {', '.join(FORMATS)})")
    if any(not os.path.exists(os.path.join(args.workdir, c + ".txt")) for c in corpora):
        subprocess.run([sys.executable, os.path.join(HERE, "make_corpus.py"), "--workdir", args.workdir], check=True)
    binaries = [("old", args.old)] if args.old else []
    binaries.append(("new", args.new))

    rows = []
    failed = False
    for corpus in corpora:
        inputs = make_inputs(args.new, args.workdir, corpus, formats, args.copies)
        for name in formats:
            path, decode_format, empty = inputs[name]
            results = {}
            reference = None
            for label, binary in binaries:
                argv = [binary, "decode", "--format", decode_format, path]
                sha, text_bytes = digest(argv)
                if reference is None:
                    reference = (sha, text_bytes)
                elif reference[0] != sha:
                    print(f"MISMATCH {corpus} {name}: {label} output differs from old", file=sys.stderr)
                    failed = True
                start = statistics.median(cpu_seconds([binary, "decode", "--format", decode_format, empty])
                                          for _ in range(args.repeat))
                runs = [cpu_seconds(argv) for _ in range(args.repeat)]
                cpu = statistics.median(runs)
                results[label] = (text_bytes, cpu, start)
            rows.append((corpus, name, os.path.getsize(path), results))
            text_bytes = results["new"][0]
            line = f"{corpus:6} {name:12} in {os.path.getsize(path) / 1e6:7.1f} MB  text {text_bytes / 1e6:7.1f} MB"
            for label, (b, cpu, start) in results.items():
                net = max(cpu - start, 1e-9)
                line += f"  {label}: {b / 1e6 / cpu:7.1f} raw {b / 1e6 / net:7.1f} net MB/s ({cpu:.3f} s, start {start:.3f} s)"
            print(line, flush=True)

    print()
    print("MB of text out per CPU-second (median of %d; net = start-up on an empty input subtracted)" % args.repeat)
    header = "| corpus | input | ids in (MB) | text out (MB) |"
    rule = "|---|---|---:|---:|"
    for label, _ in binaries:
        header += f" {label} raw | {label} net |"
        rule += "---:|---:|"
    if args.old:
        header += " new/old (net) |"
        rule += "---:|"
    print(header)
    print(rule)
    for corpus, name, size, results in rows:
        line = f"| {corpus} | {name} | {size / 1e6:.1f} | {results['new'][0] / 1e6:.1f} |"
        nets = {}
        for label, _ in binaries:
            b, cpu, start = results[label]
            nets[label] = b / 1e6 / max(cpu - start, 1e-9)
            line += f" {b / 1e6 / cpu:.0f} | {nets[label]:.0f} |"
        if args.old:
            line += f" {nets['new'] / nets['old']:.1f}x |"
        print(line)
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
