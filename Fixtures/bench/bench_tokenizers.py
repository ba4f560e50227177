#!/usr/bin/env python3
"""Benchmark qwenkit's Qwen2 tokenizer against Python tokenizer libraries, on the same corpora in one run.

Tools (each encodes the same text with Qwen2's tokenizer, no special-token parsing needed: the corpora
contain no added-token strings):
  qwenkit    the binary (--qwenkit PATH, or $QWENKIT, default .build/release/qwenkit), run as
             `qwenkit encode --format u32 --threads N FILE -o OUT`; it encodes the whole file as one document.
  hf         Hugging Face `tokenizers`, Tokenizer.from_file(tokenizer.json): the reference.
  tiktoken   tiktoken.Encoding built from Qwen2's vocab (rank = id), Qwen2's split regex and its 3 special
             tokens. tiktoken does no NFC, so it is given NFC-normalized documents (normalized before the
             clock starts, so its times leave out normalization; the corpora are almost all NFC already).
  quicktok   quicktok-v1, its bundled `qwen3` encoding (same BPE; Qwen3's extra special tokens are not used).
  gigatoken  gigatoken.Tokenizer(tokenizer.json).
  fastokens  fastokens.Tokenizer.from_file(tokenizer.json).

Corpora: built by make_corpus.py into the work dir (default /tmp/qwenkit-bench, /tmp/qwenkit-bench/quick with
--quick): mixed.txt (~7.5 MB) and cjk.txt (~3 MB). Documents: each corpus is a concatenation of 1-8 KB
documents (boundaries in <name>.docs), cut only where a line starts with a non-space character, so that
encoding the whole file gives exactly the concatenated ids of the documents. The Python tools encode the
document list; qwenkit encodes the file. The correctness phase checks this equivalence with HF.

Flow:
  1. Correctness: the HF ids of every document are the reference. Every peer's ids, from both its
     single-thread and its batch API, and qwenkit's ids at 1 and N threads must be identical; mismatches are
     reported (count, first differing document and token) and a mismatching tool is left out of that
     corpus's speed table (--time-mismatching times it anyway).
  2. Speed, cold: each (tool, corpus, threads) measurement is a fresh process that loads the tokenizer and
     reads the corpus, then starts the clock, encodes the corpus once and stops it (--repeat fresh processes,
     median reported). Wall time (perf_counter) and CPU time (process_time: all threads of the process).
       single thread: env RAYON_NUM_THREADS=1, RAYON_RS_NUM_CPUS=1, TOKENIZERS_PARALLELISM=false,
                      OMP_NUM_THREADS=1, FASTOKENS_BPE_THREADS=1; each tool's one-text API in a loop:
                      hf encode(d).ids, tiktoken encode_ordinary, quicktok encode_ordinary,
                      gigatoken encode, fastokens encode(d).ids; qwenkit --threads 1.
       all threads:   RAYON_NUM_THREADS=N, TOKENIZERS_PARALLELISM=true; each tool's batch API:
                      hf encode_batch_fast, tiktoken encode_ordinary_batch(num_threads=N),
                      quicktok encode_batch(threads=N), gigatoken encode_batch(parallel=True),
                      fastokens encode_batch_flat; qwenkit --threads N.
     qwenkit is timed from outside (wall around the process, CPU from the child's rusage), so its start-up
     and tokenizer load are included; the same command on a one-line file is measured too and subtracted
     ("net"); the raw figure is reported alongside.
  3. Report: markdown tables (MB/s wall, MB per CPU-second, ratio to qwenkit, or to HF when qwenkit is
     missing), machine info; written to WORKDIR/results.md and results.json and printed.

Usage:
  python3 Fixtures/bench/bench_tokenizers.py [--quick] [--qwenkit PATH] [--threads N] [--repeat R]
         [--tools hf,tiktoken,...] [--corpora mixed,cjk] [--workdir DIR] [--skip-check] [--skip-speed]
MB = 10^6 bytes of UTF-8 input.
"""
import argparse
import importlib.metadata
import json
import os
import platform
import resource
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import unicodedata

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
from byte_level import bytes_to_unicode  # noqa: E402  (the alphabet, shared with the fixture scripts)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
TOKDIR = os.path.join(ROOT, "Fixtures", "tokenizers", "qwen2")
PEERS = ["hf", "tiktoken", "quicktok", "gigatoken", "fastokens"]
ALL_TOOLS = ["qwenkit"] + PEERS
CORPORA = ["mixed", "cjk"]
QWEN2_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
                 r"\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_SPECIALS = {"<|endoftext|>": 151643, "<|im_start|>": 151644, "<|im_end|>": 151645}
PKG = {"hf": "tokenizers", "tiktoken": "tiktoken", "quicktok": "quicktok-v1", "gigatoken": "gigatoken",
       "fastokens": "fastokens"}


# ----------------------------------------------------------------------------------------------
# Files
# ----------------------------------------------------------------------------------------------

def ensure_tokenizer_json(workdir):
    path = os.path.join(workdir, "tokenizer", "tokenizer.json")
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        src = os.path.join(TOKDIR, "tokenizer.json.zst")
        try:
            import zstandard
            with open(src, "rb") as f:
                data = zstandard.ZstdDecompressor().stream_reader(f).read()
        except ImportError:
            data = subprocess.run(["zstd", "-dc", src], check=True, capture_output=True).stdout
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    return path


def ensure_corpus(workdir, quick, log):
    """Build the corpora unless WORKDIR holds ones made by this version of make_corpus.py."""
    sys.path.insert(0, HERE)
    import make_corpus
    path = os.path.join(workdir, "manifest.json")
    manifest = None
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
        if manifest.get("maker_sha256") != make_corpus.sha256_file(make_corpus.__file__) or \
                manifest.get("quick") != quick:
            log("corpus in %s is from another make_corpus.py or size; rebuilding" % workdir)
            manifest = None
    if manifest is None:
        manifest = make_corpus.build(workdir, quick, log=log)
    return manifest


def load_docs(workdir, name):
    with open(os.path.join(workdir, name + ".txt"), "rb") as f:
        data = f.read()
    with open(os.path.join(workdir, name + ".docs"), "rb") as f:
        raw = f.read()
    offs = struct.unpack("<%dQ" % (len(raw) // 8), raw)
    assert offs[-1] == len(data)
    return [data[offs[i]:offs[i + 1]].decode("utf-8") for i in range(len(offs) - 1)], len(data)


# ----------------------------------------------------------------------------------------------
# Tools
# ----------------------------------------------------------------------------------------------

def load_tool(tool, tokjson):
    """Returns (prepare(docs) -> docs, single(docs) -> list of id sequences, batch(docs, n) -> flat info).

    For timing, `single`/`batch` return the total token count; with want_ids=True they return per-doc lists."""
    if tool == "hf":
        from tokenizers import Tokenizer
        tok = Tokenizer.from_file(tokjson)

        def single(docs, want_ids=False):
            if want_ids:
                return [tok.encode(d, add_special_tokens=False).ids for d in docs]
            n = 0
            for d in docs:
                n += len(tok.encode(d, add_special_tokens=False).ids)
            return n

        def batch(docs, threads, want_ids=False):
            fn = getattr(tok, "encode_batch_fast", tok.encode_batch)
            encs = fn(docs, add_special_tokens=False)
            if want_ids:
                return [e.ids for e in encs]
            return sum(len(e.ids) for e in encs)
        return (lambda docs: docs), single, batch

    if tool == "tiktoken":
        import tiktoken
        with open(tokjson, encoding="utf-8") as f:
            vocab = json.load(f)["model"]["vocab"]
        u2b = {v: k for k, v in bytes_to_unicode().items()}
        ranks = {bytes(u2b[c] for c in t): i for t, i in vocab.items()}
        enc = tiktoken.Encoding(name="qwen2", pat_str=QWEN2_PATTERN, mergeable_ranks=ranks,
                                special_tokens=QWEN2_SPECIALS)

        def prepare(docs):
            return [unicodedata.normalize("NFC", d) for d in docs]

        def single(docs, want_ids=False):
            if want_ids:
                return [enc.encode_ordinary(d) for d in docs]
            n = 0
            for d in docs:
                n += len(enc.encode_ordinary(d))
            return n

        def batch(docs, threads, want_ids=False):
            out = enc.encode_ordinary_batch(docs, num_threads=threads)
            return out if want_ids else sum(len(x) for x in out)
        return prepare, single, batch

    if tool == "quicktok":
        import quicktok
        enc = quicktok.get_encoding("qwen3")

        def single(docs, want_ids=False):
            if want_ids:
                return [enc.encode_ordinary(d) for d in docs]
            n = 0
            for d in docs:
                n += len(enc.encode_ordinary(d))
            return n

        def batch(docs, threads, want_ids=False):
            toks, offs = enc.encode_batch(docs, threads, False)
            if want_ids:
                return [toks[offs[i]:offs[i + 1]].tolist() for i in range(len(docs))]
            return int(offs[-1])
        return (lambda docs: docs), single, batch

    if tool == "gigatoken":
        import gigatoken
        tok = gigatoken.Tokenizer(tokjson)

        def single(docs, want_ids=False):
            if want_ids:
                return [tok.encode(d).tolist() for d in docs]
            n = 0
            for d in docs:
                n += len(tok.encode(d))
            return n

        def batch(docs, threads, want_ids=False):
            if want_ids:
                return tok.encode_batch_list(docs, parallel=True)
            import awkward as ak
            arr = tok.encode_batch(docs, parallel=True)
            return int(ak.sum(ak.num(arr)))
        return (lambda docs: docs), single, batch

    if tool == "fastokens":
        import fastokens
        tok = fastokens.Tokenizer.from_file(tokjson)

        def single(docs, want_ids=False):
            if want_ids:
                return [tok.encode(d).ids for d in docs]
            n = 0
            for d in docs:
                n += len(tok.encode(d).ids)
            return n

        def batch(docs, threads, want_ids=False):
            ids, offs = tok.encode_batch_flat(docs)
            if want_ids:
                import numpy as np
                a = np.frombuffer(ids, np.uint32)
                o = np.frombuffer(offs, np.uint64)
                return [a[int(o[i]):int(o[i + 1])].tolist() for i in range(len(docs))]
            return len(ids) // 4
        return (lambda docs: docs), single, batch

    raise ValueError(tool)


def thread_env(threads):
    env = dict(os.environ)
    for k in ("FASTOKENS_BPE_THREADS",):
        env.pop(k, None)
    env["RAYON_NUM_THREADS"] = str(threads)
    env["RAYON_RS_NUM_CPUS"] = str(threads)
    env["OMP_NUM_THREADS"] = str(threads)
    env["OPENBLAS_NUM_THREADS"] = "1"
    env["MKL_NUM_THREADS"] = "1"
    if threads == 1:
        env["TOKENIZERS_PARALLELISM"] = "false"
        env["FASTOKENS_BPE_THREADS"] = "1"
    else:
        env["TOKENIZERS_PARALLELISM"] = "true"
    return env


def worker(args):
    """Fresh-process measurement: load, read, then time one encode of the corpus."""
    t_load = time.perf_counter()
    prepare, single, batch = load_tool(args.worker, args.tokjson)
    docs, nbytes = load_docs(args.workdir, args.corpus)
    docs = prepare(docs)
    load_s = time.perf_counter() - t_load
    c0 = time.process_time()
    t0 = time.perf_counter()
    if args.threads == 1:
        ntok = single(docs)
    else:
        ntok = batch(docs, args.threads)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    print(json.dumps({"tool": args.worker, "corpus": args.corpus, "threads": args.threads, "wall": wall, "cpu": cpu,
                      "tokens": ntok, "bytes": nbytes, "load_s": load_s}))
    return 0


# ----------------------------------------------------------------------------------------------
# qwenkit
# ----------------------------------------------------------------------------------------------

def run_qwenkit(binary, path, threads, out):
    """Returns (wall, cpu, returncode, stderr)."""
    cmd = [binary, "encode", "--format", "u32", "--threads", str(threads), path, "-o", out]
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=thread_env(threads))
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return wall, cpu, p.returncode, p.stderr.decode("utf-8", "replace")


def read_u32(path):
    import numpy as np
    return np.fromfile(path, dtype="<u4")


# ----------------------------------------------------------------------------------------------
# Correctness
# ----------------------------------------------------------------------------------------------

def first_diff(a, b):
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n if len(a) != len(b) else -1


def compare_docs(ref, got):
    """Returns None if equal, else a dict describing the mismatches."""
    if len(got) != len(ref):
        return {"mismatched_docs": None, "note": "returned %d documents, expected %d" % (len(got), len(ref))}
    bad = [i for i in range(len(ref)) if list(got[i]) != ref[i]]
    if not bad:
        return None
    i = bad[0]
    j = first_diff(ref[i], list(got[i]))
    return {"mismatched_docs": len(bad), "first_doc": i, "first_token": j,
            "expected": ref[i][max(0, j - 3): j + 5], "got": list(got[i])[max(0, j - 3): j + 5]}


def describe(tokjson, info, docs):
    if info is None:
        return "identical"
    if info.get("mismatched_docs") is None:
        return info["note"]
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(tokjson)
    ctx = tok.decode(info["expected"])
    return ("%d documents differ; first: doc %d at token %d: expected %s got %s (text near: %r)"
            % (info["mismatched_docs"], info["first_doc"], info["first_token"], info["expected"], info["got"], ctx))


def correctness(args, tokjson, corpus, docs, log):
    res = {}
    from tokenizers import Tokenizer
    hf = Tokenizer.from_file(tokjson)
    t0 = time.perf_counter()
    ref = [e.ids for e in hf.encode_batch(docs, add_special_tokens=False)]
    log("  hf reference: %d docs, %d tokens (%.1fs)" % (len(docs), sum(map(len, ref)), time.perf_counter() - t0))
    flat = [i for r in ref for i in r]
    whole = hf.encode("".join(docs), add_special_tokens=False).ids
    j = first_diff(flat, whole)
    res["hf-whole-file"] = {"ok": j < 0, "detail": "identical" if j < 0 else "whole-file ids differ from the "
                            "concatenated document ids at token %d" % j}
    log("  hf whole file == concatenated documents: %s" % ("yes" if j < 0 else "NO (token %d)" % j))
    for tool in args.tools:
        if tool in ("hf", "qwenkit"):
            continue
        try:
            prepare, single, batch = load_tool(tool, tokjson)
        except Exception as e:  # noqa: BLE001
            res[tool] = {"ok": False, "detail": "failed to load: %s" % e, "unavailable": True}
            log("  %-10s unavailable: %s" % (tool, e))
            continue
        pdocs = prepare(docs)
        details = []
        ok = True
        for mode, fn in (("single", lambda: single(pdocs, want_ids=True)),
                         ("batch", lambda: batch(pdocs, args.threads, want_ids=True))):
            try:
                info = compare_docs(ref, fn())
            except Exception as e:  # noqa: BLE001
                info = {"mismatched_docs": None, "note": "error: %r" % e}
                res.setdefault("_errors", set()).add(tool)
            ok = ok and info is None
            details.append("%s API: %s" % (mode, describe(tokjson, info, docs)))
        error = tool in res.pop("_errors", set())
        res[tool] = {"ok": ok, "detail": "; ".join(details), "error": error}
        log("  %-10s %s" % (tool, "OK" if ok else ("ERROR: " if error else "MISMATCH: ") + res[tool]["detail"]))
    if "qwenkit" in args.tools:
        if not args.qwenkit_ok:
            res["qwenkit"] = {"ok": False, "detail": args.qwenkit_missing, "unavailable": True}
        else:
            path = os.path.join(args.workdir, corpus + ".txt")
            details = []
            ok = True
            error = False
            for th in sorted({1, args.threads}):
                with tempfile.TemporaryDirectory() as td:
                    out = os.path.join(td, "ids.u32")
                    wall, cpu, rc, err = run_qwenkit(args.qwenkit, path, th, out)
                    if rc != 0:
                        ok = False
                        error = True
                        details.append("--threads %d: exit status %d: %s" % (th, rc, err.strip()[-300:]))
                        continue
                    got = read_u32(out).tolist()
                j = first_diff(flat, got)
                if j < 0:
                    details.append("--threads %d: identical" % th)
                else:
                    ok = False
                    # map the token position to a document
                    pos, d = 0, 0
                    while d < len(ref) and pos + len(ref[d]) <= j:
                        pos += len(ref[d])
                        d += 1
                    details.append("--threads %d: %d tokens (expected %d), first difference at token %d (doc %d, "
                                   "token %d): expected %s got %s" % (th, len(got), len(flat), j, d, j - pos,
                                                                     flat[j:j + 5], got[j:j + 5]))
            res["qwenkit"] = {"ok": ok, "detail": "; ".join(details), "error": error}
            log("  %-10s %s" % ("qwenkit", "OK" if ok else ("ERROR: " if error else "MISMATCH: ") +
                                res["qwenkit"]["detail"]))
    res["hf"] = {"ok": True, "detail": "reference"}
    return res, len(flat)


# ----------------------------------------------------------------------------------------------
# Speed
# ----------------------------------------------------------------------------------------------

def measure_peer(args, tool, corpus, threads):
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", tool, "--corpus", corpus, "--threads", str(threads),
           "--workdir", args.workdir, "--tokjson", args.tokjson]
    p = subprocess.run(cmd, capture_output=True, env=thread_env(threads))
    if p.returncode != 0:
        raise RuntimeError("%s worker failed: %s" % (tool, p.stderr.decode("utf-8", "replace")[-500:]))
    return json.loads(p.stdout.decode().strip().splitlines()[-1])


def measure_qwenkit(args, corpus, threads, baseline):
    path = os.path.join(args.workdir, corpus + ".txt")
    with tempfile.TemporaryDirectory() as td:
        out = os.path.join(td, "ids.u32")
        wall, cpu, rc, err = run_qwenkit(args.qwenkit, path, threads, out)
        if rc != 0:
            raise RuntimeError("qwenkit failed: " + err[-500:])
        ntok = os.path.getsize(out) // 4
    bw, bc = baseline[threads]
    # On a corpus so small (or a machine so noisy) that start-up is over half the run, subtracting it is
    # meaningless: keep the raw figures then and say so.
    subtract = wall - bw >= 0.5 * wall
    return {"tool": "qwenkit", "corpus": corpus, "threads": threads, "wall": wall - bw if subtract else wall,
            "cpu": max(cpu - bc, 1e-6) if subtract else cpu, "raw_wall": wall, "raw_cpu": cpu, "tokens": ntok,
            "bytes": os.path.getsize(path), "startup_subtracted": subtract}


def qwenkit_baseline(args, threads):
    with tempfile.TemporaryDirectory() as td:
        small = os.path.join(td, "small.txt")
        with open(small, "w") as f:
            f.write("hello world\n")
        walls, cpus = [], []
        for _ in range(max(3, args.repeat)):
            w, c, rc, err = run_qwenkit(args.qwenkit, small, threads, os.path.join(td, "o.u32"))
            if rc != 0:
                raise RuntimeError("qwenkit failed: " + err[-500:])
            walls.append(w)
            cpus.append(c)
    return statistics.median(walls), statistics.median(cpus)


def summarize(runs):
    if any(not r.get("startup_subtracted", True) for r in runs):
        runs = [dict(r, wall=r["raw_wall"], cpu=r["raw_cpu"], startup_subtracted=False) for r in runs]
    return {"wall": statistics.median(r["wall"] for r in runs), "cpu": statistics.median(r["cpu"] for r in runs),
            "raw_wall": statistics.median(r.get("raw_wall", r["wall"]) for r in runs),
            "tokens": runs[0]["tokens"], "bytes": runs[0]["bytes"], "runs": runs}


# ----------------------------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------------------------

def machine_info(args):
    info = {"platform": platform.platform(), "python": platform.python_version(), "logical_cpus": os.cpu_count(),
            "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            info["memory_gib"] = round(int(f.readline().split()[1]) / 1024 / 1024, 1)
        info["loadavg_at_start"] = open("/proc/loadavg").read().split()[:3]
    except OSError:
        pass
    vers = {}
    for t, p in PKG.items():
        try:
            vers[t] = importlib.metadata.version(p)
        except importlib.metadata.PackageNotFoundError:
            vers[t] = None
    info["versions"] = vers
    if args.qwenkit_ok:
        st = os.stat(args.qwenkit)
        info["qwenkit"] = {"path": os.path.abspath(args.qwenkit), "size": st.st_size,
                           "mtime": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(st.st_mtime))}
        try:
            info["qwenkit"]["git"] = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
                                                    capture_output=True, text=True).stdout.strip()
        except OSError:
            pass
    return info


def render(args, info, manifest, checks, speeds, failures):
    L = []
    L.append("# Qwen2 tokenizer benchmark")
    L.append("")
    L.append("- machine: %s, %s usable CPUs, %s GiB RAM, %s; Python %s; load average at start %s" % (
        info.get("cpu", "?"), info["usable_cpus"], info.get("memory_gib", "?"), info["platform"], info["python"],
        " ".join(info.get("loadavg_at_start", []))))
    L.append("- versions: " + ", ".join("%s %s" % (PKG[t], v) for t, v in info["versions"].items()))
    if args.qwenkit_ok:
        q = info["qwenkit"]
        L.append("- qwenkit: %s (%d bytes, built %s, tree %s)" % (q["path"], q["size"], q["mtime"], q.get("git", "?")))
    else:
        L.append("- qwenkit: not measured (%s); ratios are relative to HF tokenizers" % args.qwenkit_missing)
    L.append("- method: fresh process per measurement, tokenizer loaded and corpus read before the clock, one "
             "encode of the corpus; median of %d runs. MB = 10^6 bytes. `MB/CPU-s` = input MB per CPU-second "
             "(all threads). 1 thread = each tool's one-text API with thread env vars set to 1; %d threads = "
             "each tool's batch API." % (args.repeat, args.threads))
    if args.qwenkit_ok:
        L.append("- qwenkit is timed from outside; its start-up + tokenizer load on a one-line file "
                 "(%s) is subtracted; `raw` is the wall time including it." %
                 ", ".join("%.3fs wall at %d thread(s)" % (v[0], k) for k, v in sorted(args.baseline.items())))
    L.append("")
    for corpus in args.corpora:
        m = manifest["corpora"][corpus]
        L.append("## %s corpus: %.2f MB, %d documents" % (corpus, m["bytes"] / 1e6, m["docs"]))
        L.append("")
        ref = "qwenkit" if (args.qwenkit_ok and checks[corpus].get("qwenkit", {}).get("ok")
                            and (corpus, "qwenkit", 1) in speeds) else "hf"
        hdr = "| tool | 1 thread MB/s | MB/CPU-s | x %s | %d threads MB/s | MB/CPU-s | x %s | tokens |" % (
            ref, args.threads, ref)
        L.append(hdr)
        L.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        for tool in args.tools:
            cells = [tool]
            tokens = None
            for th in sorted({1, args.threads}) if args.threads != 1 else [1]:
                s = speeds.get((corpus, tool, th))
                r = speeds.get((corpus, ref, th))
                if s is None:
                    cells += ["-", "-", "-"]
                    continue
                mbs = s["bytes"] / 1e6 / s["wall"]
                cpu = s["bytes"] / 1e6 / s["cpu"] if s["cpu"] > 0 else float("nan")
                ratio = (mbs / (r["bytes"] / 1e6 / r["wall"])) if r else float("nan")
                txt = "%.1f" % mbs
                if tool == "qwenkit":
                    if all(r.get("startup_subtracted") for r in s["runs"]):
                        txt += " (raw %.1f)" % (s["bytes"] / 1e6 / s["raw_wall"])
                    else:
                        txt += " (raw: start-up not subtracted)"
                cells += [txt, "%.1f" % cpu, "%.2f" % ratio]
                tokens = s["tokens"]
            if args.threads == 1:
                cells += ["-", "-", "-"]
            if all(c == "-" for c in cells[1:]):
                continue
            cells.append(str(tokens) if tokens is not None else "-")
            L.append("| " + " | ".join(cells) + " |")
        L.append("")
        L.append("Correctness (ids identical to HF tokenizers for every document):")
        L.append("")
        for tool, c in checks[corpus].items():
            label = "OK" if c["ok"] else "UNAVAILABLE" if c.get("unavailable") else "ERROR" if c.get("error") \
                else "MISMATCH"
            L.append("- %s: %s%s" % (tool, label,
                                       "" if c["ok"] and c["detail"] in ("identical", "reference") else
                                       " (%s)" % c["detail"]))
            if not c["ok"] and not c.get("unavailable") and tool != "hf-whole-file":
                L.append("  - left out of the speed table%s" % (" (timed anyway: --time-mismatching)"
                                                                  if args.time_mismatching else ""))
        L.append("")
    if failures:
        L.append("## Problems during the speed runs")
        L.append("")
        L += ["- " + f for f in failures]
        L.append("")
    return "\n".join(L) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--quick", action="store_true", help="1/10 size corpora (WORKDIR/quick), 1 run each")
    ap.add_argument("--qwenkit", default=os.environ.get("QWENKIT", os.path.join(ROOT, ".build", "release", "qwenkit")))
    ap.add_argument("--threads", type=int, default=None, help="thread count of the all-threads runs (default: CPUs)")
    ap.add_argument("--repeat", type=int, default=None, help="fresh processes per measurement (default 3; 1 with --quick)")
    ap.add_argument("--tools", default=",".join(ALL_TOOLS))
    ap.add_argument("--corpora", default=",".join(CORPORA))
    ap.add_argument("--skip-check", action="store_true", help="skip the correctness phase")
    ap.add_argument("--skip-speed", action="store_true", help="only the correctness phase")
    ap.add_argument("--time-mismatching", action="store_true", help="time tools whose ids differ from HF too")
    # worker mode (internal)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--corpus", help=argparse.SUPPRESS)
    ap.add_argument("--tokjson", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.workdir is None:
        args.workdir = "/tmp/qwenkit-bench/quick" if args.quick else "/tmp/qwenkit-bench"
    if args.worker:
        return worker(args)

    args.threads = args.threads or (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                                    else os.cpu_count())
    args.repeat = args.repeat or (1 if args.quick else 3)
    args.tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    args.corpora = [c.strip() for c in args.corpora.split(",") if c.strip()]
    for t in args.tools:
        if t not in ALL_TOOLS:
            ap.error("unknown tool %r (known: %s)" % (t, ", ".join(ALL_TOOLS)))
    if "hf" not in args.tools:
        args.tools.insert(0, "hf")

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    args.qwenkit_ok = False
    args.qwenkit_missing = ""
    if "qwenkit" in args.tools:
        if os.path.isfile(args.qwenkit) and os.access(args.qwenkit, os.X_OK):
            args.qwenkit_ok = True
        else:
            args.qwenkit_missing = "binary %s not found (build with `swift build -c release` or pass --qwenkit)" % \
                                   args.qwenkit
            log("qwenkit: " + args.qwenkit_missing + "; skipping it")

    os.makedirs(args.workdir, exist_ok=True)
    args.tokjson = ensure_tokenizer_json(args.workdir)
    manifest = ensure_corpus(args.workdir, args.quick, log)
    info = machine_info(args)

    checks = {}
    ref_tokens = {}
    for corpus in args.corpora:
        docs, nbytes = load_docs(args.workdir, corpus)
        if args.skip_check:
            checks[corpus] = {t: {"ok": True, "detail": "not checked (--skip-check)"} for t in args.tools}
            if not args.qwenkit_ok and "qwenkit" in args.tools:
                checks[corpus]["qwenkit"] = {"ok": False, "detail": args.qwenkit_missing, "unavailable": True}
            continue
        log("correctness: %s (%.2f MB, %d docs)" % (corpus, nbytes / 1e6, len(docs)))
        checks[corpus], ref_tokens[corpus] = correctness(args, args.tokjson, corpus, docs, log)

    speeds = {}
    failures = []
    if not args.skip_speed:
        args.baseline = {}
        if args.qwenkit_ok and any(checks[c].get("qwenkit", {}).get("ok") or args.time_mismatching
                                   for c in args.corpora):
            try:
                for th in sorted({1, args.threads}):
                    args.baseline[th] = qwenkit_baseline(args, th)
            except RuntimeError as e:
                failures.append("qwenkit start-up baseline: %s" % e)
                for c in args.corpora:
                    checks[c]["qwenkit"] = {"ok": False, "error": True, "detail": str(e)[-300:]}
        for corpus in args.corpora:
            for tool in args.tools:
                c = checks[corpus].get(tool, {"ok": True})
                if c.get("unavailable") or (not c["ok"] and not args.time_mismatching):
                    continue
                for th in sorted({1, args.threads}):
                    runs = []
                    try:
                        for _ in range(args.repeat):
                            if tool == "qwenkit":
                                runs.append(measure_qwenkit(args, corpus, th, args.baseline))
                            else:
                                runs.append(measure_peer(args, tool, corpus, th))
                    except Exception as e:  # noqa: BLE001
                        failures.append("%s on %s at %d thread(s): %s" % (tool, corpus, th, str(e).strip()[-300:]))
                        log("speed: " + failures[-1])
                        continue
                    s = summarize(runs)
                    expected = ref_tokens.get(corpus)
                    if expected is not None and any(r["tokens"] != expected for r in runs):
                        failures.append("%s on %s at %d thread(s): produced %s tokens, HF %d" % (
                            tool, corpus, th, sorted({r["tokens"] for r in runs}), expected))
                    speeds[(corpus, tool, th)] = s
                    log("speed: %-6s %-10s %2d thread(s): %7.2f MB/s wall, %7.2f MB/CPU-s, %d tokens" % (
                        corpus, tool, th, s["bytes"] / 1e6 / s["wall"], s["bytes"] / 1e6 / s["cpu"], s["tokens"]))
    else:
        args.baseline = {}

    report = render(args, info, manifest, checks, speeds, failures)
    print(report)
    with open(os.path.join(args.workdir, "results.md"), "w", encoding="utf-8") as f:
        f.write(report)
    with open(os.path.join(args.workdir, "results.json"), "w", encoding="utf-8") as f:
        json.dump({"machine": info, "checks": checks, "problems": failures,
                   "speeds": [dict(corpus=k[0], tool=k[1], threads=k[2], **v) for k, v in speeds.items()]},
                  f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
