#!/usr/bin/env python3
"""Token goldens for generation options that transformers implements: greedy decoding with a repetition penalty
over the whole sequence (prompt included), and with min_p sampling reduced to its deterministic case.

    python3 Fixtures/scripts/make_generation_goldens.py

writes Fixtures/logit-golden/q2-untied.generate.json: for Fixtures/checkpoints/q2-untied in float32 (eager
attention), `model.generate(prompt, max_new_tokens=12, do_sample=False, repetition_penalty=P, eos_token_id=None)`
for several P, each {"prompt", "repetition_penalty", "tokens"} (tokens: the generated ids).
"""
import json
import os

import torch
import transformers
from transformers import AutoModelForCausalLM

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKPOINT = os.path.join(HERE, "..", "checkpoints", "q2-untied")
OUT = os.path.join(HERE, "..", "logit-golden", "q2-untied.generate.json")
PROMPT = [257, 294, 268, 266, 33]


def main():
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(CHECKPOINT, torch_dtype=torch.float32, attn_implementation="eager")
    model.eval()
    cases = []
    for penalty in (1.0, 1.3, 2.0, 0.7):
        with torch.no_grad():
            out = model.generate(torch.tensor([PROMPT]), max_new_tokens=12, do_sample=False, repetition_penalty=penalty,
                                 eos_token_id=None, pad_token_id=0, top_k=None, top_p=None, temperature=None)
        cases.append({"prompt": PROMPT, "repetition_penalty": penalty, "tokens": out[0, len(PROMPT):].tolist()})
    with open(OUT, "w") as f:
        json.dump({"model": "checkpoints/q2-untied", "transformers": transformers.__version__, "torch": torch.__version__,
                   "cases": cases}, f, indent=1)
        f.write("\n")
    print(json.dumps(cases))


if __name__ == "__main__":
    main()
