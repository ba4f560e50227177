#!/usr/bin/env python3
"""Drive `qwenkit serve` with the clients people point at an OpenAI-compatible server: the official `openai`
Python client, and lm-eval-harness's `local-completions` model on a small task of this repository.

    pip install 'openai==3.63.0' 'lm-eval[api]==0.4.13' accelerate==1.16.0   # accelerate: lm-eval's hf model, for (c)
    python3 Fixtures/scripts/drive_server.py [--qwenkit .build/release/qwenkit] [--out Fixtures/lm-eval/drive_server.out.txt]
                                             [--no-hf-check] [--keep DIR]

Run from anywhere; it works in the repository's root (the task's data_files are relative to it). Versions it was
run with: CPython 3.11.7, openai 3.63.0, lm_eval 0.4.13, datasets 5.2.0, transformers 5.25.0, tokenizers 0.23.3,
torch 2.15.0, accelerate 1.16.0. Nothing leaves 127.0.0.1: HF_HUB_OFFLINE, HF_DATASETS_OFFLINE and
TRANSFORMERS_OFFLINE are set, the dataset is a local JSONL file, the tokenizer a local directory.

1. Starts `qwenkit serve Fixtures/convert-golden/q2-tied.f32.gguf --port 0 --alias q2-tied -t 1` (a tiny
   random-weight model: hidden 32, 2 layers, a 320-token vocabulary, so its text is gibberish) and reads the port
   from its stderr line "qwenkit: serving q2-tied on http://127.0.0.1:PORT (...)".
2. (a) The `openai` client: models.list; a chat completion, non-streamed and streamed, greedy (temperature 0, and
   repeat_penalty 1 through extra_body: the GGUF's general.sampling.* would otherwise sample with temperature 0.7,
   top-k 20, top-p 0.8, repeat penalty 1.05); checks the streamed pieces join to the non-streamed text; a
   completion with logprobs 2 and echo (the prompt's tokens with their log-probabilities, then the generated ones);
   a request with n = 2, which the client must raise as BadRequestError with the server's message.
3. (b) lm-eval-harness through the server, exactly:

       lm_eval --model local-completions \\
         --model_args model=q2-tied,base_url=http://127.0.0.1:PORT/v1/completions,tokenizer=Fixtures/checkpoints/q2-tied,tokenizer_backend=huggingface,tokenized_requests=True,num_concurrent=1,max_retries=1,max_length=512 \\
         --tasks qwenkit_tiny --include_path Fixtures/lm-eval --output_path TMP --log_samples

   `qwenkit_tiny` tags three tasks (Fixtures/lm-eval/*.yaml) over Fixtures/lm-eval/tiny_sentences.jsonl, twenty
   short English sentences each with its right ending and three wrong ones: qwenkit_tiny_mc (multiple_choice: 80
   loglikelihood requests, acc and acc_norm), qwenkit_tiny_ll (loglikelihood of the right ending: perplexity, and
   acc = the ending is the greedy continuation, from top_logprobs), qwenkit_tiny_gen (generate_until "." or a
   newline, 8 tokens at most, exact_match). lm-eval sends token ids ({"prompt": [[ids]], "max_tokens": 1,
   "echo": true, "logprobs": 1, "temperature": 0, "seed": 1234} for a loglikelihood; "stop" and max_tokens 8 for a
   generation). max_length=512 is the model's context (lm-eval assumes 2048 otherwise). The scores mean nothing
   about the model (random weights); they show the plumbing.
4. (c) Unless --no-hf-check: the same lm_eval command with `--model hf --model_args
   pretrained=Fixtures/checkpoints/q2-tied,dtype=float32 --device cpu` (transformers on the checkpoint the GGUF
   was converted from; its BF16 weights are exact in the F32 GGUF), and a comparison of every sample: the
   loglikelihoods within 1e-4, the is_greedy flags and the generated texts equal.
5. SIGTERM to the server; it must exit 0. Every request it logged must have been answered 200, except the one 400
   asked for.

What it prints is deterministic (greedy decoding, lm-eval's fixed seeds; the port is printed as PORT, times are
left out); with --out it is also written to that file (the committed Fixtures/lm-eval/drive_server.out.txt).
Exit status 0 when every check holds.
"""
import argparse
import collections
import glob
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = "Fixtures/convert-golden/q2-tied.f32.gguf"
TOKENIZER = "Fixtures/checkpoints/q2-tied"
NAME = "q2-tied"
GREEDY = {"repeat_penalty": 1}

LINES = []
FAILURES = []


def say(text=""):
    print(text, flush=True)
    LINES.append(text)


def check(ok, what):
    say(f"  {'ok' if ok else 'FAIL'}: {what}")
    if not ok:
        FAILURES.append(what)


class ServerProcess:
    """`qwenkit serve` on a free port; its stderr is read on a thread (the serving line, then one line a request)."""

    def __init__(self, qwenkit, args):
        self.proc = subprocess.Popen([qwenkit, "serve", *args], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        self.lines = []
        self.ready = threading.Event()
        self.port = None
        self.banner = None
        threading.Thread(target=self._read, daemon=True).start()
        if not self.ready.wait(60) or self.port is None:
            self.proc.kill()
            sys.exit("qwenkit serve did not say where it listens:\n" + "".join(self.lines))

    def _read(self):
        for line in self.proc.stderr:
            self.lines.append(line)
            m = re.match(r"qwenkit: serving .* on http://127\.0\.0\.1:(\d+) ", line)
            if m and self.port is None:
                self.port = int(m.group(1))
                self.banner = line.strip().replace(f":{self.port} ", ":PORT ")
                self.ready.set()
        self.ready.set()

    def stop(self):
        """SIGTERM, then the exit status (None if it had to be killed)."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def requests(self):
        """Counts of (method, path, status) over the request log lines."""
        out = collections.Counter()
        for line in self.lines:
            m = re.match(r"(GET|POST) (\S+) (\d{3}) ", line)
            if m:
                out[m.groups()] += 1
        return out


def drive_openai(port):
    import openai
    from openai import OpenAI

    say(f"== (a) openai {openai.__version__}: OpenAI(base_url='http://127.0.0.1:PORT/v1', api_key='unused')")
    client = OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="unused", max_retries=0, timeout=60)

    models = client.models.list()
    say("models.list(): " + json.dumps([{"id": m.id, "object": m.object, "owned_by": m.owned_by} for m in models.data]))
    check([m.id for m in models.data] == [NAME], f"the one model is {NAME!r}")

    messages = [{"role": "system", "content": "You are a terse assistant."},
                {"role": "user", "content": "Name a colour."}]
    say("\nchat.completions.create(messages=" + json.dumps(messages) +
        ", max_tokens=16, temperature=0, extra_body={'repeat_penalty': 1})")
    chat = client.chat.completions.create(model=NAME, messages=messages, max_tokens=16, temperature=0, extra_body=GREEDY)
    choice = chat.choices[0]
    say(f"  object={chat.object!r} model={chat.model!r} finish_reason={choice.finish_reason!r} "
        f"role={choice.message.role!r}")
    say(f"  content={choice.message.content!r}")
    say(f"  usage: prompt_tokens={chat.usage.prompt_tokens} completion_tokens={chat.usage.completion_tokens} "
        f"total_tokens={chat.usage.total_tokens}")
    check(choice.finish_reason == "length" and chat.usage.completion_tokens == 16, "16 tokens, finish_reason 'length'")

    say("\nthe same with stream=True")
    pieces, roles, finishes, chunks = [], [], [], 0
    for chunk in client.chat.completions.create(model=NAME, messages=messages, max_tokens=16, temperature=0,
                                                extra_body=GREEDY, stream=True):
        chunks += 1
        delta = chunk.choices[0].delta
        if delta.role:
            roles.append(delta.role)
        if delta.content:
            pieces.append(delta.content)
        if chunk.choices[0].finish_reason:
            finishes.append(chunk.choices[0].finish_reason)
    say(f"  {chunks} chunks (object 'chat.completion.chunk'), roles={roles}, finish_reason={finishes}")
    say(f"  pieces={pieces!r}")
    check("".join(pieces) == choice.message.content, "the streamed pieces join to the non-streamed content")
    check(roles == ["assistant"] and finishes == ["length"], "one role delta first, one finish_reason last")

    prompt = "The cat sat on the"
    say(f"\ncompletions.create(prompt={prompt!r}, max_tokens=4, temperature=0, logprobs=2, echo=True, "
        "extra_body={'repeat_penalty': 1})")
    c = client.completions.create(model=NAME, prompt=prompt, max_tokens=4, temperature=0, logprobs=2, echo=True,
                                  extra_body=GREEDY)
    ch = c.choices[0]
    lp = ch.logprobs
    say(f"  object={c.object!r} finish_reason={ch.finish_reason!r} text={ch.text!r}")
    say(f"  usage: prompt_tokens={c.usage.prompt_tokens} completion_tokens={c.usage.completion_tokens}")
    say(f"  {'offset':>6}  {'token':<10}{'logprob':>10}  top_logprobs")
    for i, (tok, val, top, off) in enumerate(zip(lp.tokens, lp.token_logprobs, lp.top_logprobs, lp.text_offset)):
        mark = "  <- generated" if i >= c.usage.prompt_tokens else ""
        tops = "None" if top is None else ", ".join(f"{k!r}: {v:.4f}" for k, v in top.items())
        say(f"  {off:>6}  {tok!r:<10}{'None' if val is None else f'{val:.4f}':>10}  {tops}{mark}")
    n_prompt = c.usage.prompt_tokens
    check(ch.text.startswith(prompt) and len(lp.tokens) == n_prompt + 4, "the text and the logprobs echo the prompt")
    check(lp.token_logprobs[0] is None and all(v is not None and v <= 0 for v in lp.token_logprobs[1:]),
          "no log-probability for the first prompt token, a log-probability <= 0 for every other token")
    greedy_ok = all(abs(lp.token_logprobs[i] - max(lp.top_logprobs[i].values())) < 1e-12 for i in range(n_prompt, len(lp.tokens)))
    check(greedy_ok, "each generated token is its position's most likely one (greedy)")

    say("\ncompletions.create(prompt='x', n=2)")
    try:
        client.completions.create(model=NAME, prompt="x", n=2)
        check(False, "n=2 is refused")
    except openai.BadRequestError as e:
        say(f"  openai.BadRequestError: status {e.status_code}, body {json.dumps(e.body)}")
        check(e.status_code == 400 and e.body.get("param") == "n", "n=2 is a 400 the client raises as BadRequestError")


LM_EVAL_TASKS = "qwenkit_tiny"


def lm_eval_command(model, model_args, out_dir, device=None):
    cmd = ["lm_eval", "--model", model, "--model_args", model_args, "--tasks", LM_EVAL_TASKS,
           "--include_path", "Fixtures/lm-eval", "--output_path", out_dir, "--log_samples"]
    if device:
        cmd += ["--device", device]
    return cmd


def run_lm_eval(cmd, port=None):
    """Runs lm_eval; prints its results table (the port shown as PORT); lm-eval's log goes to a file beside it."""
    shown = " ".join(cmd)
    if port is not None:
        shown = shown.replace(str(port), "PORT")
    shown = re.sub(r"--output_path \S+", "--output_path TMP", shown)
    say("$ " + shown)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with open(os.path.join(cmd[cmd.index("--output_path") + 1], "lm_eval.log"), "w") as f:
        f.write(p.stderr)
    if p.returncode != 0:
        say(p.stdout)
        say(p.stderr[-4000:])
        check(False, f"lm_eval exits 0 (it exited {p.returncode})")
        return False
    for line in p.stdout.splitlines():
        if line.startswith("|") or re.match(r"^(local-completions|hf) \(", line):
            say(line.replace(f":{port}/", ":PORT/") if port is not None else line)
    return True


def samples(out_dir):
    """(task, doc_id) -> resps of lm-eval's --log_samples files."""
    out = {}
    for path in glob.glob(os.path.join(out_dir, "*", "samples_*.jsonl")):
        task = re.match(r"samples_(.+)_\d{4}-\d\d-\d\dT", os.path.basename(path)).group(1)
        with open(path) as f:
            for line in f:
                s = json.loads(line)
                out[(task, s["doc_id"])] = s["resps"]
    return out


def compare(ours, theirs):
    say("\nper sample, the server's answers against transformers':")
    worst, greedy_diff, gen_diff, n_ll, n_gen = 0.0, 0, 0, 0, 0
    check(sorted(ours) == sorted(theirs) and len(ours) == 60, "the same 60 documents (3 tasks x 20)")
    for key in sorted(ours):
        a, b = ours[key], theirs.get(key)
        if b is None:
            continue
        if key[0].endswith("_gen"):
            n_gen += 1
            gen_diff += a != b
            continue
        for (x,), (y,) in zip(a, b):
            n_ll += 1
            worst = max(worst, abs(float(x[0]) - float(y[0])))
            greedy_diff += x[1] != y[1]
    say(f"  {n_ll} loglikelihoods: max |difference| {worst:.1e}; is_greedy differs in {greedy_diff}")
    say(f"  {n_gen} generations: {n_gen - gen_diff} identical")
    check(worst < 1e-4 and greedy_diff == 0, "the loglikelihoods agree within 1e-4, the is_greedy flags all")
    check(gen_diff == 0, "the generated texts are identical")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default = ".build/release/qwenkit" if os.path.exists(os.path.join(ROOT, ".build/release/qwenkit")) else ".build/debug/qwenkit"
    ap.add_argument("--qwenkit", default=os.environ.get("QWENKIT", default))
    ap.add_argument("--out", help="also write what is printed to this file")
    ap.add_argument("--no-hf-check", action="store_true", help="skip (c), lm-eval's hf model on the checkpoint")
    ap.add_argument("--keep", help="keep lm-eval's outputs (results, samples, logs) in this directory")
    a = ap.parse_args()
    qwenkit = os.path.abspath(a.qwenkit)
    os.chdir(ROOT)
    for k in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        os.environ[k] = "1"
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    os.environ.setdefault("OPENAI_API_KEY", "unused")
    work = a.keep or tempfile.mkdtemp(prefix="drive_server.")
    os.makedirs(work, exist_ok=True)

    say("# python3 Fixtures/scripts/drive_server.py (its docstring has the versions); deterministic: greedy, fixed seeds")
    say(f"$ qwenkit serve {MODEL} --port 0 --alias {NAME} -t 1")
    server = ServerProcess(qwenkit, [MODEL, "--port", "0", "--alias", NAME, "-t", "1"])
    say(server.banner)
    try:
        drive_openai(server.port)

        import lm_eval
        say(f"\n== (b) lm-eval {lm_eval.__version__}, local-completions through the server")
        served_out = os.path.join(work, "served")
        args = (f"model={NAME},base_url=http://127.0.0.1:{server.port}/v1/completions,tokenizer={TOKENIZER},"
                "tokenizer_backend=huggingface,tokenized_requests=True,num_concurrent=1,max_retries=1,max_length=512")
        served_ok = run_lm_eval(lm_eval_command("local-completions", args, served_out), port=server.port)
    finally:
        status = server.stop()
    say(f"\n== SIGTERM: qwenkit serve exited {status}")
    check(status == 0, "exit status 0 after SIGTERM")
    say("requests it logged (method, path, status: count):")
    for (method, path, code), n in sorted(server.requests().items()):
        say(f"  {method} {path} {code}: {n}")
    bad = {k: n for k, n in server.requests().items() if k[2] != "200"}
    check(bad == {("POST", "/v1/completions", "400"): 1}, "every request answered 200 but the n=2 one (400)")

    if served_ok and not a.no_hf_check:
        import transformers
        say(f"\n== (c) the same tasks with lm-eval's hf model: transformers {transformers.__version__} on {TOKENIZER}, float32")
        hf_out = os.path.join(work, "hf")
        if run_lm_eval(lm_eval_command("hf", f"pretrained={TOKENIZER},dtype=float32", hf_out, device="cpu")):
            compare(samples(served_out), samples(hf_out))

    say("\n" + ("all checks passed" if not FAILURES else f"{len(FAILURES)} checks failed: " + "; ".join(FAILURES)))
    if a.out:
        with open(a.out, "w") as f:
            f.write("\n".join(LINES) + "\n")
    if not a.keep:
        import shutil
        shutil.rmtree(work, ignore_errors=True)
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
