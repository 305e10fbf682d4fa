#!/usr/bin/env python3
"""Independent reference for SmolLM2-135M-Instruct (GGUF Q4_1): reads the file with the `gguf`
package (llama.cpp's own Python reader and dequantizer; no code of ours), tokenises with the
HF `tokenizers` package built from the GGUF vocabulary and merges (SmolLM2's pre-tokenizer:
single digits, then GPT-2 byte-level), and runs a numpy float64 LLaMA forward pass on the
dequantized weights. Writes, as JSON: token ids for a set of strings, and for each prompt the
first greedy steps (chosen id, top-10 ids and logits), plus one dequantized-row checksum per
tensor type so the Rust dequantizers can be checked without the forward pass.

    python3 -m venv venv && venv/bin/pip install numpy gguf tokenizers
    venv/bin/python smollm2_greedy.py SmolLM2-135M-Instruct.Q4_1.gguf > sdk-wasm/tests/data/smollm2_greedy.json
"""
import json
import sys

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize
from tokenizers import Tokenizer, decoders, models, pre_tokenizers

STEPS = 10
TOKENIZE = [
    "The capital of France is",
    "Hello, world! 12345 numbers split into digits.",
    "Ünïcödé, 日本語のテキスト, emoji 🚀",
    "def add(a, b):\n    return a + b\n",
    "<|im_start|>user\nHi<|im_end|>\n",
    "",
    "   leading spaces and trailing   ",
]
# A raw prompt, and one through the model's chat template (ChatML with its default system line).
CHAT = (
    "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
    "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n"
)
PROMPTS = ["The capital of France is", CHAT]


def field(reader, key):
    return reader.fields[key].contents()


def tokenizer(reader):
    tokens = field(reader, "tokenizer.ggml.tokens")
    types = field(reader, "tokenizer.ggml.token_type")
    merges = [tuple(m.split(" ", 1)) for m in field(reader, "tokenizer.ggml.merges")]
    tok = Tokenizer(models.BPE(vocab={t: i for i, t in enumerate(tokens)}, merges=merges))
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)]
    )
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([t for t, ty in zip(tokens, types) if ty == 3])  # CONTROL tokens
    return tok


def weights(reader):
    out = {}
    for t in reader.tensors:
        rows = dequantize(t.data, t.tensor_type).astype(np.float64)
        # GGUF shapes list the innermost dimension first; numpy wants it last.
        out[t.name] = rows.reshape([int(d) for d in reversed(t.shape)])
    return out


def rmsnorm(x, g, eps):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * g


def rope(x, pos, base):
    # llama.cpp's "normal" RoPE: the GGUF export permutes q/k so adjacent pairs rotate together.
    d = x.shape[-1]
    inv = base ** (-np.arange(0, d, 2, dtype=np.float64) / d)
    ang = np.outer(pos, inv)  # [seq, d/2]
    cos, sin = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    a, b = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = a * cos - b * sin
    out[..., 1::2] = a * sin + b * cos
    return out


class Model:
    def __init__(self, reader):
        f = lambda k: field(reader, "llama." + k)
        self.layers = int(f("block_count"))
        self.heads = int(f("attention.head_count"))
        self.kv_heads = int(f("attention.head_count_kv"))
        self.eps = float(f("attention.layer_norm_rms_epsilon"))
        self.base = float(f("rope.freq_base"))
        self.w = weights(reader)
        self.cache = [([], []) for _ in range(self.layers)]

    def mm(self, x, name):
        """x @ W.T for the weight `name` (smollm2_q8_activations.py overrides it)."""
        return x @ self.w[name].T

    def forward(self, ids, start):
        w = self.w
        x = w["token_embd.weight"][ids]  # [seq, dim]
        seq, dim = x.shape
        hd = dim // self.heads
        pos = np.arange(start, start + seq)
        for l in range(self.layers):
            p = f"blk.{l}."
            h = rmsnorm(x, w[p + "attn_norm.weight"], self.eps)
            q = self.mm(h, p + "attn_q.weight").reshape(seq, self.heads, hd)
            k = self.mm(h, p + "attn_k.weight").reshape(seq, self.kv_heads, hd)
            v = self.mm(h, p + "attn_v.weight").reshape(seq, self.kv_heads, hd)
            q, k = rope(q, pos, self.base), rope(k, pos, self.base)
            ks, vs = self.cache[l]
            ks.append(k)
            vs.append(v)
            K, V = np.concatenate(ks), np.concatenate(vs)  # [total, kv_heads, hd]
            total = K.shape[0]
            group = self.heads // self.kv_heads
            att = np.empty((seq, self.heads, hd))
            for head in range(self.heads):
                kh, vh = K[:, head // group], V[:, head // group]
                s = q[:, head] @ kh.T / np.sqrt(hd)  # [seq, total]
                causal = np.arange(total)[None, :] > pos[:, None]
                s[causal] = -np.inf
                s = np.exp(s - s.max(-1, keepdims=True))
                att[:, head] = (s / s.sum(-1, keepdims=True)) @ vh
            x = x + self.mm(att.reshape(seq, dim), p + "attn_output.weight")
            h = rmsnorm(x, w[p + "ffn_norm.weight"], self.eps)
            g = self.mm(h, p + "ffn_gate.weight")
            u = self.mm(h, p + "ffn_up.weight")
            x = x + self.mm(g / (1 + np.exp(-g)) * u, p + "ffn_down.weight")
        x = rmsnorm(x[-1], w["output_norm.weight"], self.eps)
        out = "output.weight" if "output.weight" in w else "token_embd.weight"  # tied embeddings when absent
        return self.mm(x, out)


def greedy(model, ids):
    model.cache = [([], []) for _ in range(model.layers)]
    steps, pos, feed = [], 0, list(ids)
    for _ in range(STEPS):
        logits = model.forward(feed, pos)
        pos += len(feed)
        top = np.argsort(-logits)[:10]
        steps.append({"id": int(top[0]), "top_ids": [int(i) for i in top], "top_logits": [float(logits[i]) for i in top]})
        feed = [int(top[0])]
    return steps


def checksums(reader):
    # First row of the first tensor of each type, dequantized: sum and a few values.
    seen, out = set(), []
    for t in reader.tensors:
        name = t.tensor_type.name
        if name in seen:
            continue
        seen.add(name)
        row = dequantize(t.data, t.tensor_type).astype(np.float64).reshape(-1, int(t.shape[0]))[0]
        out.append({"tensor": t.name, "type": name, "row_sum": float(row.sum()), "first": [float(v) for v in row[:8]]})
    return out


def main():
    reader = GGUFReader(sys.argv[1])
    tok = tokenizer(reader)
    model = Model(reader)
    prompts = []
    for p in PROMPTS:
        ids = tok.encode(p).ids
        steps = greedy(model, ids)
        text = tok.decode([s["id"] for s in steps])
        prompts.append({"prompt": p, "prompt_ids": ids, "steps": steps, "continuation": text})
    print(
        json.dumps(
            {
                "model": "SmolLM2-135M-Instruct.Q4_1.gguf",
                "tokenize": [{"text": t, "ids": tok.encode(t).ids} for t in TOKENIZE],
                "dequant": checksums(reader),
                "greedy": prompts,
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
