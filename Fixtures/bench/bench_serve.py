#!/usr/bin/env python3
"""Generation speed through `qwenkit serve` against `qwenkit run` on the same model, prompt and token count.

    python3 Fixtures/bench/bench_serve.py [--qwenkit .build/release/qwenkit] [--model /tmp/qwenkit-bench/runtime/q8_0.gguf]
                                          [--prompt 128] [--gen 64] [--threads 2] [--clients 4 | 2,4] [--repeat 5]

The model is bench_runtime.py's Q8_0 file (the 0.5B-shaped checkpoint of make_bench_model.py, converted and quantized
by qwenkit; make it with bench_runtime.py first). The prompt is the text of bench_runtime.py's pseudo-random ids
(the first --prompt of them, decoded by the server's /detokenize) as one user message through the model's chat
template: `run --chat -f FILE` and the server's /v1/chat/completions render and tokenize it alike (the script checks
the prompt token counts are equal). Both decode greedily (temperature 0, repeat penalty 1) for --gen tokens; the
random-weight model never emits an end token first, which the script checks (finish_reason "length").

- run: the generation rate `qwenkit run` prints on stderr ("generation: G tokens, G-1 steps in T ms (R tokens/s)":
  the first token comes from the prompt's logits, each later one is a forward step), with -t --threads.
- serve, one client: `qwenkit serve MODEL -t --threads` (one slot), a streamed chat completion read with
  http.client; the rate is (G - 1) / (arrival of the last content chunk - arrival of the first), the same steps over
  the same span. Chunks carry whole characters, so a chunk may hold two tokens or wait for the next one; with 64
  tokens the error this puts on the span is about one step at either end. Runs alternate with run's, --repeat
  of each after a warm-up of each; medians.
- serve, C clients at once (each C of --clients, a comma-separated list): `qwenkit serve MODEL -t --threads
  --parallel C` (the slots' next tokens decoded together in one batched step on all the threads), C streams of the
  same message started together; the total rate is C x (G - 1) / (the last stream's last chunk - the first stream's
  first chunk), and per stream as above; each stream's text is checked against run's. Every server is started first
  and the rounds alternate (run, one client, then each C), --repeat of each after a warm-up of each; medians.
- the machine is shared: each measurement notes the share of its CPU that other processes took meanwhile (busy time
  in /proc/stat, steal included, less the servers', this script's and run's own), and a round in which any exceeded
  --max-other (default 10%) is left out of the medians; every round's share is printed.
- prompt: run's prompt time, and the server's time to first token (request sent to first content chunk: HTTP,
  template, tokenizing and the prompt's forward pass).

Requests go to 127.0.0.1 only. Python's standard library only; the server runs with its default context (the
model's, at most 4096 positions).
"""
import argparse
import http.client
import json
import os
import resource
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_runtime import token_ids  # noqa: E402

RUN_LINE = re.compile(r"prompt: (\d+) tokens in ([\d.]+) ms \([\d.]+ tokens/s\); "
                      r"generation: (\d+) tokens, (\d+) steps in ([\d.]+) ms \(([\d.]+) tokens/s\)")


class Server:
    def __init__(self, qwenkit, model, args):
        self.proc = subprocess.Popen([qwenkit, "serve", model, "--port", "0", *args], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.port, self.banner = None, None
        ready = threading.Event()

        def read():
            for line in self.proc.stderr:
                m = re.match(r"qwenkit: serving .* on http://127\.0\.0\.1:(\d+) ", line)
                if m and self.port is None:
                    self.port, self.banner = int(m.group(1)), line.strip()
                    ready.set()
            ready.set()
        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(120) or self.port is None:
            self.proc.kill()
            sys.exit("qwenkit serve did not start")

    def post(self, path, body):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        c.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        if r.status != 200:
            sys.exit(f"{path}: {r.status} {data[:500]}")
        return json.loads(data)

    def stream(self, body):
        """A streamed chat completion: (send time, [(arrival, content)], finish_reason)."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        t0 = time.perf_counter()
        c.request("POST", "/v1/chat/completions", json.dumps({**body, "stream": True}), {"Content-Type": "application/json"})
        r = c.getresponse()
        if r.status != 200:
            sys.exit(f"stream: {r.status} {r.read()[:500]}")
        pieces, finish = [], None
        while True:
            line = r.readline()
            if not line:
                break
            now = time.perf_counter()
            if not line.startswith(b"data: ") or line.startswith(b"data: [DONE]"):
                continue
            choice = json.loads(line[6:])["choices"][0]
            if choice["delta"].get("content"):
                pieces.append((now, choice["delta"]["content"]))
            if choice.get("finish_reason"):
                finish = choice["finish_reason"]
        c.close()
        return t0, pieces, finish

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


def run_once(qwenkit, model, prompt_file, gen, threads):
    p = subprocess.run([qwenkit, "run", model, "--chat", "-f", prompt_file, "-n", str(gen), "--temp", "0",
                        "--repeat-penalty", "1", "-t", str(threads)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)  # bytes: text mode would turn \r\n into \n
    stderr = p.stderr.decode("utf-8", "replace")
    m = RUN_LINE.search(stderr)
    if not m:
        sys.exit("cannot parse run's summary: " + stderr)
    n_prompt, prompt_ms, n_gen, steps, gen_ms, rate = m.groups()
    if int(n_gen) != gen:
        sys.exit(f"run generated {n_gen} tokens, not {gen} (an end token?)")
    return {"prompt_tokens": int(n_prompt), "prompt_ms": float(prompt_ms), "rate": float(rate), "text": p.stdout.decode("utf-8", "replace")}


HZ, CPUS = os.sysconf("SC_CLK_TCK"), os.cpu_count()


def machine_busy():
    """CPU seconds the machine spent busy (user, nice, system, irq, softirq, and steal: the host's other guests)."""
    v = list(map(int, open("/proc/stat").readline().split()[1:9]))
    return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / HZ


def own_cpu(pids):
    """CPU seconds of the servers, this script and its waited-for children (the runs)."""
    t = 0.0
    for pid in pids:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        t += (int(fields[11]) + int(fields[12])) / HZ
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        r = resource.getrusage(who)
        t += r.ru_utime + r.ru_stime
    return t


def measured(pids, fn):
    """fn()'s result, and the share of the machine's CPU that something else took meanwhile."""
    b0, o0, t0 = machine_busy(), own_cpu(pids), time.perf_counter()
    result = fn()
    b1, o1, t1 = machine_busy(), own_cpu(pids), time.perf_counter()
    return result, max(0.0, (b1 - b0) - (o1 - o0)) / ((t1 - t0) * CPUS)


def stream_rate(t0, pieces, gen):
    span = pieces[-1][0] - pieces[0][0]
    return (gen - 1) / span, (pieces[0][0] - t0) * 1000


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--qwenkit", default=os.environ.get("QWENKIT", ".build/release/qwenkit"))
    ap.add_argument("--model", default="/tmp/qwenkit-bench/runtime/q8_0.gguf")
    ap.add_argument("--prompt", type=int, default=128, help="ids of bench_runtime's sequence decoded into the message")
    ap.add_argument("--gen", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--clients", default="4", help="concurrent clients, one server with as many slots each (e.g. 2,4)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--max-other", type=float, default=0.1,
                    help="rounds in which other processes took more than this share of the CPU are left out (default 0.1)")
    a = ap.parse_args()
    qwenkit = os.path.abspath(a.qwenkit)
    if not os.path.exists(a.model):
        sys.exit(f"{a.model} is missing: make it with Fixtures/bench/bench_runtime.py")

    greedy = {"temperature": 0, "repeat_penalty": 1, "max_tokens": a.gen}
    server = Server(qwenkit, a.model, ["-t", str(a.threads)])
    text = server.post("/detokenize", {"tokens": token_ids(a.prompt)})["content"]
    body = {"messages": [{"role": "user", "content": text}], **greedy}
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write(text)
        prompt_file = f.name

    # Warm-up, and the checks: the same prompt tokens, --gen tokens each, the same text.
    ran = run_once(qwenkit, a.model, prompt_file, a.gen, a.threads)
    once = server.post("/v1/chat/completions", body)
    usage = once["usage"]
    if usage["prompt_tokens"] != ran["prompt_tokens"] or usage["completion_tokens"] != a.gen:
        sys.exit(f"prompt or generated tokens differ: run {ran['prompt_tokens']} prompt tokens; server {usage}")
    if once["choices"][0]["finish_reason"] != "length":
        sys.exit("the server's generation ended before --gen tokens")
    same_text = once["choices"][0]["message"]["content"] + "\n" == ran["text"]
    load = os.getloadavg()[0]
    print(f"{os.path.basename(a.model)}: chat prompt of {usage['prompt_tokens']} tokens, {a.gen} generated greedily, "
          f"-t {a.threads}; run's text {'equals' if same_text else 'DIFFERS FROM'} the server's; load average {load:.2f} before")

    def round_of_clients(server, clients):
        results = [None] * clients

        def one(i):
            results[i] = server.stream(body)
        threads = [threading.Thread(target=one, args=(i,)) for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if any(r[2] != "length" for r in results):
            sys.exit("a stream ended before --gen tokens")
        same = all("".join(p for _, p in r[1]) + "\n" == ran["text"] for r in results)
        span = max(r[1][-1][0] for r in results) - min(r[1][0][0] for r in results)
        return clients * (a.gen - 1) / span, [stream_rate(r[0], r[1], a.gen)[0] for r in results], \
            statistics.median(stream_rate(r[0], r[1], a.gen)[1] for r in results), same

    # Every server up first, then the rounds alternate, so that the machine's drift falls on all of them alike.
    counts = list(map(int, str(a.clients).split(",")))
    servers = {c: Server(qwenkit, a.model, ["-t", str(a.threads), "--parallel", str(c)]) for c in counts}
    runs, served, ttft = [], [], []
    parallel = {c: ([], [], [], []) for c in counts}
    server.stream(body)
    for c in counts:
        round_of_clients(servers[c], c)
    # Each measurement notes the CPU share other processes took meanwhile (the machine is shared); a round in which any
    # took more than --max-other is left out of the medians (all rounds are printed).
    pids = [server.proc.pid] + [sv.proc.pid for sv in servers.values()]
    others = []
    for _ in range(a.repeat):
        ran_now, o_run = measured(pids, lambda: run_once(qwenkit, a.model, prompt_file, a.gen, a.threads))
        runs.append(ran_now)
        (t0, pieces, finish), o_one = measured(pids, lambda: server.stream(body))
        if finish != "length":
            sys.exit("a stream ended before --gen tokens")
        rate, first = stream_rate(t0, pieces, a.gen)
        served.append(rate)
        ttft.append(first)
        round_others = [o_run, o_one]
        for c in counts:
            (total, rates, first, same), o_c = measured(pids, lambda: round_of_clients(servers[c], c))
            round_others.append(o_c)
            totals, each, ttft_c, sames = parallel[c]
            totals.append(total)
            each.append(rates)
            ttft_c.append(first)
            sames.append(same)
        others.append(max(round_others))
    clean = [i for i, o in enumerate(others) if o <= a.max_other]
    if not clean:
        print(f"no round had other processes under {a.max_other:.0%} of the CPU: the medians are of all rounds")
        clean = list(range(a.repeat))
    status1 = server.stop()
    statuses = {c: servers[c].stop() for c in counts}
    os.unlink(prompt_file)

    def kept(values):
        return [values[i] for i in clean]
    r_run = statistics.median(r["rate"] for r in kept(runs))
    r_one = statistics.median(kept(served))
    print(f"median of {len(clean)} of {a.repeat} rounds (run, the single client and each --parallel alternating; left out: "
          f"rounds where other processes took over {a.max_other:.0%} of the CPU, "
          f"{[round(o, 2) for o in others]}); generation tokens/s, prompt ms")
    print(f"{'':<44}{'tokens/s':>9}{'vs run':>8}{'vs 1 client':>12}{'prompt ms':>11}")
    print(f"{'qwenkit run -t ' + str(a.threads):<44}{r_run:>9.1f}{1:>8.2f}{'':>12}{statistics.median(r['prompt_ms'] for r in kept(runs)):>11.0f}")
    print(f"{'serve -t %d, 1 client (streamed chat)' % a.threads:<44}{r_one:>9.1f}{r_one / r_run:>8.2f}{1:>12.2f}"
          f"{statistics.median(kept(ttft)):>11.0f}")
    for clients, (totals, each, ttft_c, sames) in parallel.items():
        r_total, r_each = statistics.median(kept(totals)), statistics.median(x for rates in kept(each) for x in rates)
        label = f"serve -t {a.threads} --parallel {clients}, {clients} clients"
        print(f"{label + ': total':<44}{r_total:>9.1f}{r_total / r_run:>8.2f}{r_total / r_one:>12.2f}{statistics.median(kept(ttft_c)):>11.0f}")
        print(f"{'  each client':<44}{r_each:>9.1f}{r_each / r_run:>8.2f}{r_each / r_one:>12.2f}")
    print("every stream's text equals run's: " + ", ".join(f"{c} clients {'yes' if all(p[3]) else 'NO'}" for c, p in parallel.items()))
    print(f"(all runs: run {[round(r['rate'], 1) for r in runs]}, 1 client {[round(x, 1) for x in served]}"
          + "".join(f", {c} clients total {[round(x, 1) for x in p[0]]}" for c, p in parallel.items())
          + f"; servers exited {[status1] + list(statuses.values())}; load average {os.getloadavg()[0]:.2f} after)")


if __name__ == "__main__":
    main()
