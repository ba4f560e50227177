#!/bin/bash
# Long-context runs for README: a prompt of N tokens of mixed text (cut from the benchmark corpus so that `qwenkit
# count` gives exactly N), then 16 generated tokens, with wall time and peak RSS; llama-bench's prompt rate beside it.
#   Fixtures/bench/long_context.sh MODEL.gguf [LLAMA_BENCH] [N ...]   (default N: 4096 16384 32000)
set -euo pipefail
model=$1; shift
llama_bench=${1:-}; [ $# -gt 0 ] && shift
sizes=${*:-4096 16384 32000}
qwenkit=${QWENKIT:-.build/release/qwenkit}
corpus=${CORPUS:-/tmp/qwenkit-bench/mixed.txt}
for n in $sizes; do
  prompt=/tmp/qwenkit-long-prompt-$n.txt
  python3 - "$corpus" "$n" "$prompt" "$qwenkit" <<'PY'
import subprocess, sys
corpus, target, out, qwenkit = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
data = open(corpus, 'rb').read()
def cut(m):
    while m < len(data) and (data[m] & 0xC0) == 0x80: m += 1
    return m
def count(b):
    p = subprocess.run([qwenkit, 'count'], input=b, capture_output=True, check=True)
    return int(p.stdout.split(b'\n')[1].split()[0])
lo, hi = 0, min(len(data), target * 8)
while lo < hi:
    mid = (lo + hi) // 2
    if count(data[:cut(mid)]) < target: lo = mid + 1
    else: hi = mid
open(out, 'wb').write(data[:cut(lo)])
PY
  echo "== $n tokens"
  /usr/bin/time -f "%e s wall, %M KB peak" "$qwenkit" run "$model" -f "$prompt" -n 17 --threads 2 2>&1 >/dev/null | tail -2
  if [ -n "$llama_bench" ]; then
    "$llama_bench" -m "$model" -t 2 -r 1 -p "$n" -n 0 -b "$n" -ub 512 --repack 0 --no-warmup 2>/dev/null | grep pp || true
  fi
done
