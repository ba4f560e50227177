#!/usr/bin/env python3
"""Build the tokenizer benchmark corpora from text already on this machine (no network).

Writes into WORKDIR (default /tmp/qwenkit-bench; never committed):
  mixed.txt   ~7.5 MB: English prose, source code (Python, C, Rust, JS, shell, JSON, HTML, Swift, Perl)
              and text in many other scripts
  cjk.txt     ~3 MB: Chinese (simplified and traditional), Japanese and Korean text
  <name>.docs document boundaries: little-endian uint64 byte offsets, n_docs + 1 values
  manifest.json  sources, byte counts per category, sha256 of every file
With --quick the corpora are 1/10 of the size (WORKDIR/quick/ by default).

Sources (all read from the local file system; each is skipped if absent, which changes the corpus, so
the manifest records what was used):
  English prose  Rust book / reference / edition guide paragraphs (rustup's rust-docs HTML, <p> text),
                 Perl's pod documentation (/usr/share/perl/*/pod), /usr/share/common-licenses,
                 /usr/share/doc/*/{README*,NEWS*,changelog*,copyright} (gzip ones decompressed),
                 PyPI package metadata (site-packages/*.dist-info/METADATA: READMEs).
  Python         the standard library (sysconfig stdlib, *.py, no site-packages)
  C              /usr/include/**/*.h and Python's include directory
  Rust           the Rust standard library source pages shipped in rust-docs (html/src/**.rs.html,
                 code extracted from <pre class="rust"> and unescaped)
  JavaScript     /usr/lib/node_modules/**/*.js (minified files skipped)
  shell          scripts with a sh/bash shebang in /usr/bin, /usr/sbin, /usr/share, /etc
  JSON           /usr/lib/node_modules/**/*.json, site-packages/**/*.json
  HTML           /usr/share/doc/**/*.html
  Swift          /opt/swift/**/*.swiftinterface (Swift toolchain module interfaces)
  Perl           /usr/share/perl/**/*.pm
  other scripts  translations (msgstr strings) from gettext catalogs /usr/share/locale/<lang>/LC_MESSAGES/*.mo
                 for ru, uk, ar, fa, he, hi, bn, ta, th, vi, el, ka, hy, tr, pl, de, fr, es, pt_BR, zh_CN,
                 zh_TW, ja, ko
  cjk.txt        msgstr strings of the zh_CN, zh_TW, ja, ko catalogs that contain at least one Han, kana or
                 Hangul character (the strings keep their ASCII parts: format specifiers, option names).

Documents: each source text is cut into documents of 1-8 KB, only at a line start whose first
character is a letter, number, punctuation or symbol (not whitespace, mark, control or format character),
and every document ends with "\\n". Such a cut cannot change Qwen2's pre-tokenization or NFC (no regex
alternative can match across "\\n" followed by a non-space character, and nothing composes with "\\n"),
so encoding the whole file gives exactly the concatenation of the documents' ids; bench_tokenizers.py
checks this with HF. The documents are shuffled with a fixed seed and concatenated. Strings of Qwen2's
added tokens (<|endoftext|>, <|im_start|>, <|im_end|>) and NUL characters are removed. Files that are not
valid UTF-8 are skipped.

Deterministic: sorted file lists, fixed seeds.
Usage: python3 Fixtures/bench/make_corpus.py [--workdir DIR] [--quick]
"""
import argparse
import glob
import gzip
import hashlib
import html
import json
import os
import random
import re
import struct
import sys
import sysconfig
import unicodedata

SEED = 1234
MIXED_BUDGET = {  # bytes
    "english": 2_400_000,
    "python": 750_000, "c": 550_000, "rust": 500_000, "javascript": 400_000, "shell": 200_000,
    "json": 150_000, "html": 200_000, "swift": 150_000, "perl": 100_000,
    "other-scripts": 2_100_000,
}
CJK_BUDGET = {"cjk": 3_000_000}
MAX_PER_FILE = 24_000      # bytes taken from one file, for diversity
SPECIALS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
OTHER_LANGS = ["ru", "uk", "ar", "fa", "he", "hi", "bn", "ta", "th", "vi", "el", "ka", "hy", "tr", "pl", "de", "fr", "es",
               "pt_BR", "zh_CN", "zh_TW", "ja", "ko"]
CJK_LANGS = ["zh_CN", "zh_TW", "ja", "ko"]


# ----------------------------------------------------------------------------------------------
# Reading sources
# ----------------------------------------------------------------------------------------------

def read_text(path, max_bytes=4_000_000):
    try:
        if path.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                data = f.read(max_bytes)
        else:
            with open(path, "rb") as f:
                data = f.read(max_bytes)
        return data.decode("utf-8")
    except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile):
        return None


def files(patterns, exclude=None):
    out = set()
    for p in patterns:
        for f in glob.glob(p, recursive=True):
            if os.path.isfile(f) and not os.path.islink(f) and (exclude is None or not re.search(exclude, f)):
                out.add(f)
    return sorted(out)


_TAG = re.compile(r"<[^>]+>")


_BOILERPLATE = re.compile(r"^(Press .* (navigate|search in the book|help)|Redirecting to)")


def html_paragraphs(text):
    paras = [html.unescape(_TAG.sub("", p)).replace("\n", " ").strip() for p in re.findall(r"<p>(.*?)</p>", text, re.S)]
    paras = [p for p in paras if p and not _BOILERPLATE.match(p)]
    return "\n".join(paras) if len(paras) >= 3 else None


def rustdoc_source(text):
    m = re.search(r'<pre class="rust"><code>(.*?)</code></pre>', text, re.S)
    if not m:
        return None
    code = re.sub(r"<a [^>]*data-nosnippet>\d+</a>", "", m.group(1))
    return html.unescape(_TAG.sub("", code))


def mo_strings(path):
    """msgstr strings of a gettext .mo file (plural forms split into separate strings)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return []
    if len(data) < 28:
        return []
    magic = struct.unpack("<I", data[:4])[0]
    end = "<" if magic == 0x950412DE else ">" if magic == 0xDE120495 else None
    if end is None:
        return []
    _, n, o_orig, o_trans = struct.unpack(end + "4I", data[4:20])
    out = []
    for i in range(n):
        ln, off = struct.unpack(end + "2I", data[o_orig + 8 * i: o_orig + 8 * i + 8])
        if ln == 0:
            continue  # header entry
        ln, off = struct.unpack(end + "2I", data[o_trans + 8 * i: o_trans + 8 * i + 8])
        try:
            s = data[off: off + ln].decode("utf-8")
        except UnicodeDecodeError:
            return []
        out += [p for p in s.split("\x00") if p.strip()]
    return out


def is_cjk_string(s):
    for c in s:
        o = ord(c)
        if 0x3040 <= o <= 0x30FF or 0x3400 <= o <= 0x9FFF or 0xAC00 <= o <= 0xD7A3 or 0x1100 <= o <= 0x11FF \
                or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x2FFFF:
            return True
    return False


def shebang_shell(path):
    try:
        with open(path, "rb") as f:
            head = f.read(64)
    except OSError:
        return False
    return head.startswith(b"#!") and re.match(rb"#! ?(/usr)?/bin/(env +)?(ba|da)?sh\b", head) is not None


def source_specs():
    """category -> list of (source label, path, extractor)"""
    stdlib = sysconfig.get_paths()["stdlib"]
    include = sysconfig.get_paths()["include"]
    site = sysconfig.get_paths()["purelib"]
    rustdocs = sorted(glob.glob(os.path.expanduser("~/.rustup/toolchains/*/share/doc/rust/html")))
    rustdoc = rustdocs[0] if rustdocs else None
    ident = lambda t: t  # noqa: E731
    specs = {}
    # English: groups that share the budget evenly (see collect_balanced)
    rust_prose = []
    if rustdoc:
        for sub in ("book", "reference", "edition-guide", "rust-by-example", "nomicon", "cargo"):
            rust_prose += [("rust-docs/" + sub, f, html_paragraphs) for f in
                           files([f"{rustdoc}/{sub}/**/*.html"], exclude=r"print\.html$")]
    specs["english"] = [
        ("rust-docs", rust_prose),
        ("perl-pod", [("perl-pod", f, ident) for f in files(["/usr/share/perl/*/pod/*.pod"])]),
        ("common-licenses", [("common-licenses", f, ident) for f in files(["/usr/share/common-licenses/*"])]),
        ("usr-share-doc", [("usr-share-doc", f, ident) for f in
                           files(["/usr/share/doc/*/README*", "/usr/share/doc/*/NEWS*", "/usr/share/doc/*/changelog*"])]),
        ("copyright", [("usr-share-doc-copyright", f, ident) for f in files(["/usr/share/doc/*/copyright"])]),
        ("pypi-metadata", [("pypi-metadata", f, ident) for f in files([f"{site}/*.dist-info/METADATA"])]),
    ]
    specs["python"] = [("python-stdlib", f, ident) for f in files([f"{stdlib}/**/*.py"], exclude=r"site-packages|/test/")]
    specs["c"] = [("c-headers", f, ident) for f in files(["/usr/include/**/*.h", f"{include}/**/*.h"])]
    specs["rust"] = [("rust-std-src", f, rustdoc_source) for f in
                     (files([f"{rustdoc}/src/**/*.rs.html"]) if rustdoc else [])]
    specs["javascript"] = [("node-modules-js", f, ident) for f in files(["/usr/lib/node_modules/**/*.js"],
                                                                          exclude=r"\.min\.js$")]
    specs["shell"] = [("shell-scripts", f, ident) for f in
                      files(["/usr/bin/*", "/usr/sbin/*", "/usr/share/**/*.sh", "/etc/**/*.sh", "/etc/init.d/*"])
                      if shebang_shell(f)]
    specs["json"] = [("json", f, ident) for f in files(["/usr/lib/node_modules/**/*.json", f"{site}/**/*.json"])]
    specs["html"] = [("usr-share-doc-html", f, ident) for f in files(["/usr/share/doc/**/*.html"])]
    specs["swift"] = [("swiftinterface", f, ident) for f in files(["/opt/swift/**/*.swiftinterface"],
                                                                   exclude=r"\.private\.swiftinterface$")]
    specs["perl"] = [("perl-modules", f, ident) for f in files(["/usr/share/perl/**/*.pm"])]
    return specs


# ----------------------------------------------------------------------------------------------
# Documents
# ----------------------------------------------------------------------------------------------

def safe_start(c):
    cat = unicodedata.category(c)
    return cat[0] in "LNPS"


def clean(text):
    for s in SPECIALS:
        text = text.replace(s, "")
    text = text.replace("\x00", "")
    i = 0
    while i < len(text) and not safe_start(text[i]):
        i += 1
    text = text[i:]
    if text and not text.endswith("\n"):
        text += "\n"
    return text


def cut_documents(text, rng, budget_left):
    """Cut text into 1-8 KB documents at safe line starts; at most min(MAX_PER_FILE, budget_left) bytes."""
    text = clean(text)
    if not text:
        return []
    docs = []
    limit = min(MAX_PER_FILE, budget_left)
    taken = 0
    pos = 0
    n = len(text)
    while pos < n and taken < limit:
        target = rng.randint(1024, 8192)
        # advance roughly `target` bytes (chars are at most 4 bytes), then to the next safe cut
        end = pos
        size = 0
        while end < n and size < target:
            nl = text.find("\n", end)
            if nl < 0:
                nl = n - 1
            size += len(text[end:nl + 1].encode("utf-8"))
            end = nl + 1
        while end < n and not safe_start(text[end]):
            nl = text.find("\n", end)
            end = n if nl < 0 else nl + 1
        doc = text[pos:end]
        docs.append(doc)
        taken += len(doc.encode("utf-8"))
        pos = end
    return docs


def collect(category, entries, budget, rng):
    """Take documents from a shuffled list of (label, path|text, extractor) until budget bytes."""
    entries = list(entries)
    rng.shuffle(entries)
    docs, used, total = [], {}, 0
    for label, src, extract in entries:
        if total >= budget:
            break
        if extract is None:
            text = src
        else:
            raw = read_text(src)
            if raw is None:
                continue
            text = extract(raw)
            if not text:
                continue
        if category == "javascript":
            lines = text.splitlines() or [""]
            if sum(len(x) for x in lines) / len(lines) > 200:
                continue  # minified
        new = cut_documents(text, rng, budget - total)
        if not new:
            continue
        b = sum(len(d.encode("utf-8")) for d in new)
        docs += new
        total += b
        used[label] = used.get(label, 0) + b
    return docs, total, used


def mo_entries(lang, cjk_only):
    entries = []
    for path in files([f"/usr/share/locale/{lang}/LC_MESSAGES/*.mo"]):
        strings = mo_strings(path)
        if cjk_only:
            strings = [s for s in strings if is_cjk_string(s)]
        if strings:
            entries.append(("gettext/" + lang, "\n".join(s.strip() for s in strings) + "\n", None))
    return entries


def _estimate(entries):
    n = 0
    for _, src, extract in entries:
        if extract is None:
            n += len(src.encode("utf-8"))
        else:
            try:
                n += os.path.getsize(src)
            except OSError:
                pass
    return n


def collect_balanced(category, groups, budget, rng):
    """Share budget evenly over groups [(name, entries)]; a group with less text than its share gives the
    rest to the groups after it (groups are visited from the smallest estimated size up)."""
    groups = sorted(groups, key=lambda g: (_estimate(g[1]), g[0]))
    docs, total, used = [], 0, {}
    for i, (name, entries) in enumerate(groups):
        share = (budget - total) // (len(groups) - i)
        d, t, u = collect(category, entries, share, rng)
        docs += d
        total += t
        for k, v in u.items():
            used[k] = used.get(k, 0) + v
    return docs, total, used


def write_corpus(workdir, name, docs):
    path = os.path.join(workdir, name + ".txt")
    offsets = [0]
    with open(path, "wb") as f:
        for d in docs:
            b = d.encode("utf-8")
            f.write(b)
            offsets.append(offsets[-1] + len(b))
    with open(os.path.join(workdir, name + ".docs"), "wb") as f:
        f.write(struct.pack("<%dQ" % len(offsets), *offsets))
    return path, offsets[-1], len(docs)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def build(workdir, quick=False, log=print):
    os.makedirs(workdir, exist_ok=True)
    scale = 0.1 if quick else 1.0
    specs = source_specs()
    manifest = {"quick": quick, "seed": SEED, "maker_sha256": sha256_file(os.path.abspath(__file__)), "corpora": {}}

    # mixed
    rng = random.Random(SEED)
    mixed, cats = [], {}
    for cat, budget in MIXED_BUDGET.items():
        budget = int(budget * scale)
        if cat == "other-scripts":
            docs, total, used = collect_balanced(cat, [(l, mo_entries(l, False)) for l in OTHER_LANGS], budget, rng)
        elif cat == "english":
            docs, total, used = collect_balanced(cat, specs[cat], budget, rng)
        else:
            docs, total, used = collect(cat, specs.get(cat, []), budget, rng)
        if total < budget * 0.5:
            log("make_corpus: warning: only %d of %d bytes for %s" % (total, budget, cat))
        mixed += docs
        cats[cat] = {"bytes": total, "docs": len(docs), "sources": used}
    rng.shuffle(mixed)
    path, nbytes, ndocs = write_corpus(workdir, "mixed", mixed)
    manifest["corpora"]["mixed"] = {"bytes": nbytes, "docs": ndocs, "sha256": sha256_file(path), "categories": cats}
    log("make_corpus: %s: %d bytes, %d docs" % (path, nbytes, ndocs))

    # cjk
    rng = random.Random(SEED + 1)
    budget = int(CJK_BUDGET["cjk"] * scale)
    docs, total, used = collect_balanced("cjk", [(l, mo_entries(l, True)) for l in CJK_LANGS], budget, rng)
    rng.shuffle(docs)
    path, nbytes, ndocs = write_corpus(workdir, "cjk", docs)
    manifest["corpora"]["cjk"] = {"bytes": nbytes, "docs": ndocs, "sha256": sha256_file(path),
                                  "categories": {"cjk": {"bytes": total, "docs": len(docs), "sources": used}}}
    log("make_corpus: %s: %d bytes, %d docs" % (path, nbytes, ndocs))

    with open(os.path.join(workdir, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=False)
        f.write("\n")
    return manifest


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workdir", default=None, help="default /tmp/qwenkit-bench (or /tmp/qwenkit-bench/quick)")
    ap.add_argument("--quick", action="store_true", help="1/10 size corpora")
    a = ap.parse_args()
    workdir = a.workdir or ("/tmp/qwenkit-bench/quick" if a.quick else "/tmp/qwenkit-bench")
    build(workdir, a.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
