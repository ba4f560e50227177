#!/usr/bin/env python3
"""Golden chat-template renderings from Hugging Face transformers' own Jinja renderer, for qwenkit's template engine.

    python3 Fixtures/scripts/make_chat_template_goldens.py --llama-cpp DIR

DIR is the llama.cpp tree vendored in llama-cpp-python 0.3.36's sdist (vendor/llama.cpp); its
models/templates/*.jinja are the inputs. Writes Fixtures/chat-templates/:
  templates/<name>.jinja  every .jinja of DIR/models/templates, copied byte for byte (other files there are skipped)
  conversations.json      the conversations, keyed by id: {"messages": [...], "tools": [...]?, "variables": {...}?}
  expected.jsonl          one line per (template sorted by file name, conversation in file order,
                          add_generation_prompt false then true):
                            {"template", "conversation", "add_generation_prompt", "output": <rendered text>}
                          or, when rendering (or compiling) raises, instead of "output":
                            "error": {"type": <exception class name>, "message": str(exception)}
  metadata.json           versions, the fixed clock, bos/eos, the call, counts (overall and per template)
  README.md               what is here, the counts, the errors, sha256 of expected.jsonl and conversations.json

Each case is rendered as `tokenizer.apply_chat_template(messages, tools=tools, add_generation_prompt=...,
tokenize=False, **variables)` does for one conversation: `_normalize_chat_messages` (drops keys whose value is None),
then `transformers.utils.chat_template_utils.render_jinja_template` with documents=None, the template text as
read from the file (UTF-8) and the template variables bos_token/eos_token (a tokenizer's special_tokens_map) plus the
conversation's own variables. Nothing of the renderer is reimplemented. The one change: the module's `datetime`
is replaced by a subclass whose now() is the fixed naive instant CLOCK, so strftime_now() is deterministic
(Python's strftime, C locale). Deterministic: two runs write the same bytes.
"""
import argparse
import datetime as _dt
import hashlib
import json
import pathlib
import platform
import shutil
import sys

import jinja2
import transformers
import transformers.utils.chat_template_utils as ctu

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "Fixtures" / "chat-templates"
DEFAULT_LLAMA_CPP = "/work/ref/llama_cpp_python-0.3.36/vendor/llama.cpp"
CLOCK = _dt.datetime(2026, 12, 7, 10, 30, 0)  # naive, read as UTC
BOS, EOS = "<s>", "</s>"

TOOLS = [
    {"type": "function", "function": {
        "name": "get_weather",
        "description": "Get the current weather in a given location",
        "parameters": {"type": "object", "properties": {
            "location": {"type": "string", "description": "The city name, e.g. Paris"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "description": "The temperature unit"}},
            "required": ["location"]}}},
    {"type": "function", "function": {
        "name": "get_time",
        "description": "Get the current local time in a time zone",
        "parameters": {"type": "object", "properties": {
            "timezone": {"type": "string", "description": "An IANA time zone name, e.g. Europe/Paris"}},
            "required": ["timezone"]}}},
]

CONVERSATIONS = {
    "plain": {"messages": [
        {"role": "user", "content": "Hello! Can you tell me what a chat template is?"}]},
    "system": {"messages": [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "What is the capital of France?"}]},
    "multi-turn": {"messages": [
        {"role": "system", "content": "You are a concise assistant. Answer in one or two sentences."},
        {"role": "user", "content": "What is a prime number?"},
        {"role": "assistant", "content": "A prime number is a whole number greater than 1 whose only divisors are 1 and itself."},
        {"role": "user", "content": "Is 91 prime?"},
        {"role": "assistant", "content": "No, 91 is 7 times 13."},
        {"role": "user", "content": "What is the next prime after 91?"}]},
    "tools": {"tools": TOOLS, "messages": [
        {"role": "user", "content": "What's the weather like in Paris right now?"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "call_1", "type": "function",
             "function": {"name": "get_weather", "arguments": {"location": "Paris", "unit": "celsius"}}}]},
        {"role": "tool", "tool_call_id": "call_1", "name": "get_weather",
         "content": "{\"temperature\": 18, \"unit\": \"celsius\", \"condition\": \"partly cloudy\"}"},
        {"role": "assistant", "content": "It is 18 °C and partly cloudy in Paris."},
        {"role": "user", "content": "Thanks. And what time is it there?"}]},
    "braces-quotes": {"messages": [
        {"role": "system",
         "content": "  You keep {{ braces }}, {% tags %} and {# comments #} exactly as written.\t\n\n\n"},
        {"role": "user",
         "content": "She said \"hi\" and it's fine \\ C:\\path\\to\\file \\n </s> <s> [INST] <|im_end|>\n"
                    "\t中文：你好，世界 😀🚀 naïve café Ünïcödé {{ '{{' }} {%- raw %}  "},
        {"role": "assistant",
         "content": " Sure: {{ user }} {% endraw %} {#- not a comment -#}\n\n\n'single' \"double\" \\\\ "
                    "日本語 한국어 👍🏽 e\u0301 </s>\t"},
        {"role": "user", "content": "}} %} #} {{{ \"\" '' \\ 🎉\n\n"}]},
    "assistant-last": {"messages": [
        {"role": "user", "content": "Write a haiku about the sea."},
        {"role": "assistant", "content": "Waves fold into foam,"}]},
    "no-system-multi": {"messages": [
        {"role": "user", "content": "Give me a word that rhymes with cat."},
        {"role": "assistant", "content": "Hat."},
        {"role": "user", "content": "Another one, please."}]},
    # Beyond the seven: tool-call arguments as a JSON string (the OpenAI wire form) with a 9-character alphanumeric
    # id (Mistral's templates refuse others), and reasoning_content (which transformers also copies to `thinking`)
    # with the variable enable_thinking=false.
    "tools-string-args": {"tools": TOOLS, "messages": [
        {"role": "system", "content": "You can look up the weather and the time."},
        {"role": "user", "content": "Is it raining in Tokyo?"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "a1B2c3D4e", "type": "function",
             "function": {"name": "get_weather", "arguments": "{\"location\": \"Tokyo\"}"}}]},
        {"role": "tool", "tool_call_id": "a1B2c3D4e", "name": "get_weather",
         "content": "{\"temperature\": 22, \"unit\": \"celsius\", \"condition\": \"light rain\"}"},
        {"role": "assistant", "content": "Yes, there is light rain in Tokyo and it is 22 °C."},
        {"role": "user", "content": "Should I take an umbrella?"}]},
    "reasoning": {"variables": {"enable_thinking": False}, "messages": [
        {"role": "user", "content": "What is 17 times 3?"},
        {"role": "assistant", "reasoning_content": "17 times 3 is 51.", "content": "51."},
        {"role": "user", "content": "And 17 times 4?"}]},
}


class FixedDatetime(_dt.datetime):
    """datetime whose now() is CLOCK (naive; with a tz, CLOCK read as UTC and converted)."""

    @classmethod
    def now(cls, tz=None):
        if tz is None:
            return cls.combine(CLOCK.date(), CLOCK.time())
        return cls.fromtimestamp(CLOCK.replace(tzinfo=_dt.timezone.utc).timestamp(), tz)


def render(template_text, conv, add_generation_prompt):
    """What apply_chat_template(conversation, tools, add_generation_prompt, tokenize=False, **variables) renders."""
    messages = ctu._normalize_chat_messages(conv["messages"])
    kwargs = {"bos_token": BOS, "eos_token": EOS, **conv.get("variables", {})}
    rendered, _ = ctu.render_jinja_template(
        conversations=[messages], tools=conv.get("tools"), documents=None, chat_template=template_text,
        return_assistant_tokens_mask=False, continue_final_message=False,
        add_generation_prompt=add_generation_prompt, **kwargs)
    return rendered[0]


def error_of(e):
    return {"type": type(e).__name__, "message": str(e)}


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--llama-cpp", default=DEFAULT_LLAMA_CPP, help="llama.cpp tree with models/templates/*.jinja")
    args = ap.parse_args()
    src = pathlib.Path(args.llama_cpp) / "models" / "templates"
    ctu.datetime = FixedDatetime  # strftime_now() calls datetime.now() through the module global

    tdir = OUT / "templates"
    if tdir.exists():
        shutil.rmtree(tdir)
    tdir.mkdir(parents=True)
    names = sorted(p.name for p in src.iterdir() if p.is_file() and p.name.endswith(".jinja"))
    skipped = sorted(p.name for p in src.iterdir() if not p.name.endswith(".jinja"))
    for n in names:
        shutil.copyfile(src / n, tdir / n)
        assert (tdir / n).read_bytes() == (src / n).read_bytes()

    (OUT / "conversations.json").write_text(json.dumps(CONVERSATIONS, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    convs = json.loads((OUT / "conversations.json").read_text(encoding="utf-8"))  # render exactly what is committed

    per_template, errors = {}, {}
    with open(OUT / "expected.jsonl", "w", encoding="utf-8", newline="\n") as f:
        for n in names:
            text = (tdir / n).read_text(encoding="utf-8")
            try:
                ctu._compile_jinja_template(text)
                compile_error = None
            except Exception as e:  # noqa: BLE001 - recorded, not swallowed
                compile_error = error_of(e)
            counts = per_template[n] = {"rendered": 0, "errors": 0, "compile_error": compile_error is not None}
            for cid, conv in convs.items():
                for agp in (False, True):
                    line = {"template": n, "conversation": cid, "add_generation_prompt": agp}
                    if compile_error is not None:
                        line["error"] = compile_error
                    else:
                        try:
                            line["output"] = render(text, conv, agp)
                        except Exception as e:  # noqa: BLE001
                            line["error"] = error_of(e)
                    if "error" in line:
                        counts["errors"] += 1
                        errors.setdefault(n, []).append((cid, agp, line["error"]))
                    else:
                        counts["rendered"] += 1
                    f.write(json.dumps(line, ensure_ascii=False) + "\n")

    rendered = sum(c["rendered"] for c in per_template.values())
    failed = sum(c["errors"] for c in per_template.values())
    meta = {
        "generator": "Fixtures/scripts/make_chat_template_goldens.py",
        "source": "llama-cpp-python 0.3.36 sdist, vendor/llama.cpp/models/templates",
        "versions": {"transformers": transformers.__version__, "jinja2": jinja2.__version__,
                     "python": platform.python_version()},
        "renderer": "transformers.utils.chat_template_utils.render_jinja_template (as apply_chat_template(tokenize=False) "
                    "calls it for one conversation: messages through _normalize_chat_messages, documents=None)",
        "clock": {"now": CLOCK.isoformat(), "naive": True, "timezone": "UTC",
                  "note": "strftime_now(fmt) == datetime.now().strftime(fmt) with now() fixed to this instant, C locale"},
        "variables": {"bos_token": BOS, "eos_token": EOS},
        "jinja_environment": "ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, "
                             "extensions=[AssistantTracker, loopcontrols]); keep_trailing_newline=False",
        "skipped_files": skipped,
        "counts": {"templates": len(names), "conversations": len(convs), "cases": rendered + failed,
                   "rendered": rendered, "errors": failed,
                   "compile_errors": sum(c["compile_error"] for c in per_template.values())},
        "per_template": per_template,
    }
    (OUT / "metadata.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    err_lines = []
    for n in names:
        if n not in errors:
            continue
        groups = {}
        for cid, agp, err in errors[n]:
            key = f"{err['type']}: {err['message'].splitlines()[0][:100] if err['message'] else ''}"
            groups.setdefault(key, []).append(f"{cid}{'+gen' if agp else ''}")
        for key, cases in groups.items():
            err_lines.append(f"- `{n}` ({', '.join(cases)}): {key}")
    readme = f"""# chat-templates

Golden renderings of real chat templates by Hugging Face transformers' own Jinja renderer
(`transformers.utils.chat_template_utils.render_jinja_template`, what `apply_chat_template(tokenize=False)` calls),
for qwenkit's template engine, which must give the same bytes (or fail where it fails).

- `templates/`: the {len(names)} `.jinja` files of llama.cpp's `models/templates/` (llama-cpp-python 0.3.36's sdist),
  byte for byte ({", ".join(skipped) or "nothing"} skipped).
- `conversations.json`: {len(convs)} conversations ({", ".join(convs)}), each `messages`, optional `tools`
  (OpenAI JSON-schema functions) and optional `variables` (extra template variables). Tool-call arguments are dicts,
  as transformers documents, except in `tools-string-args` (a JSON string, the OpenAI wire form, which many recent
  templates refuse); `reasoning` has an assistant `reasoning_content` and `enable_thinking=false`.
- `expected.jsonl`: one line per template (sorted by name) × conversation (file order) × add_generation_prompt
  (false, true): `output`, or `error` {{type, message}} when transformers raises.
- `metadata.json`: versions, the fixed clock, variables, the per-template counts.

Every case gets `bos_token="{BOS}"`, `eos_token="{EOS}"`, `messages`, `tools` (None when the conversation has none),
`documents=None`, `add_generation_prompt`, and the conversation's `variables`. Before rendering, transformers drops
message keys whose value is None and gives a message with `reasoning_content` a `thinking` copy (first key) too;
a Swift caller must do the same to match. `strftime_now` sees the fixed naive instant {CLOCK.isoformat()} (UTC; C locale).
The template text is the file as read (UTF-8); Jinja drops one trailing newline of the source (keep_trailing_newline=False).

Made by `python3 Fixtures/scripts/make_chat_template_goldens.py --llama-cpp DIR` with transformers
{transformers.__version__}, jinja2 {jinja2.__version__}, CPython {platform.python_version()}.

Counts: {len(names)} templates, {rendered + failed} cases, {rendered} rendered, {failed} errors
({meta["counts"]["compile_errors"]} templates fail to compile).

Errors (`+gen`: with add_generation_prompt):

{chr(10).join(err_lines) if err_lines else "none"}

sha256:

```
{sha256(OUT / "expected.jsonl")}  expected.jsonl
{sha256(OUT / "conversations.json")}  conversations.json
{sha256(OUT / "metadata.json")}  metadata.json
```
"""
    (OUT / "README.md").write_text(readme, encoding="utf-8")

    width = max(len(n) for n in names)
    for n in names:
        c = per_template[n]
        flag = " (compile error)" if c["compile_error"] else ""
        print(f"{n:<{width}}  rendered {c['rendered']:3d}  errors {c['errors']:3d}{flag}")
    print(f"{len(names)} templates, {rendered + failed} cases: {rendered} rendered, {failed} errors; skipped {skipped}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
