#!/usr/bin/env python3
"""What 8-bit activations do to SmolLM2's greedy tokens, computed without candle or our code.

ggml's CPU matmul for a Q4_1 weight (llama.cpp's, and candle's quantized kernels, which port it)
does not multiply f32 activations: it first quantizes each activation row in 32-value blocks to
Q8_1 (Q8_0 for a Q8_0 weight): d = max|x| / 127, q = round(x / d), value = f16(d) * q. This runs
smollm2_greedy.py's float64 forward pass with exactly that rounding applied to the input of every
quantized matmul, and reports, for each prompt of the reference:
  - the greedy ids it chooses freely (and its own top-2 margin at each step), and
  - teacher-forced (fed the float64 reference's own tokens): at each step its top id, and the
    float64 reference's margin between its top id and the runner-up.
A step whose margin is smaller than the error 8-bit activations cause (a few tenths of a logit
here) is a near tie: backends that quantize activations may take the runner-up there, and from
then on they continue a different, equally valid text.

    venv/bin/python smollm2_q8_activations.py SmolLM2-135M-Instruct.Q4_1.gguf sdk-wasm/tests/data/smollm2_greedy.json \\
        > sdk-wasm/tests/data/smollm2_q8_activations.json
"""
import json
import sys

import numpy as np
from gguf import GGUFReader

import smollm2_greedy as ref


def q8_blocks(x):
    """Quantize-dequantize the last axis in 32-value blocks (ggml quantize_row_q8_0/q8_1)."""
    shape = x.shape
    b = x.astype(np.float32).reshape(-1, 32)
    d = np.abs(b).max(-1, keepdims=True) / np.float32(127)
    inv = np.where(d != 0, np.float32(1) / np.where(d != 0, d, 1), 0).astype(np.float32)
    v = b * inv
    q = np.sign(v) * np.floor(np.abs(v) + np.float32(0.5))  # roundf: half away from zero
    return (q * d.astype(np.float16).astype(np.float32)).astype(np.float64).reshape(shape)


class Q8Model(ref.Model):
    def __init__(self, reader):
        super().__init__(reader)
        # Only block-quantized weights go through an 8-bit activation dot; F32/F16 ones do not.
        self.quantized = {t.name for t in reader.tensors if t.tensor_type.name not in ("F32", "F16", "BF16")}

    def mm(self, x, name):
        if name in self.quantized:
            x = q8_blocks(x)
        return x @ self.w[name].T


def forced(model, ids, follow):
    model.cache = [([], []) for _ in range(model.layers)]
    out, pos, feed = [], 0, list(ids)
    for nxt in follow:
        logits = model.forward(feed, pos)
        pos += len(feed)
        out.append(int(np.argmax(logits)))
        feed = [int(nxt)]
    return out


def main():
    reader = GGUFReader(sys.argv[1])
    model = Q8Model(reader)
    with open(sys.argv[2] if len(sys.argv) > 2 else "sdk-wasm/tests/data/smollm2_greedy.json") as f:
        reference = json.load(f)
    prompts = []
    for case in reference["greedy"]:
        want = [s["id"] for s in case["steps"]]
        margins = [s["top_logits"][0] - s["top_logits"][1] for s in case["steps"]]
        free = ref.greedy(model, case["prompt_ids"])
        prompts.append(
            {
                "prompt_ids": case["prompt_ids"],
                "reference_ids": want,
                "reference_margins": margins,
                "q8_free_ids": [s["id"] for s in free],
                "q8_free_margins": [s["top_logits"][0] - s["top_logits"][1] for s in free],
                "q8_forced_top_ids": forced(model, case["prompt_ids"], want),
            }
        )
    print(json.dumps({"model": "SmolLM2-135M-Instruct.Q4_1.gguf", "activations": "q8 blocks (ggml CPU)", "prompts": prompts}))


if __name__ == "__main__":
    main()
