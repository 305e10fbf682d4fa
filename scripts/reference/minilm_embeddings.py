#!/usr/bin/env python3
"""Independent reference for the BERT (all-MiniLM-L6-v2) forward pass: tokenises with the HF
`tokenizers` package and runs a numpy float64 forward pass straight from model.safetensors
(no code of ours involved). Writes token ids, attention masks and mean-pooled, L2-normalised
sentence embeddings as JSON.

    python3 -m venv venv && venv/bin/pip install numpy tokenizers
    venv/bin/python minilm_embeddings.py MODEL_DIR > sdk-wasm/tests/data/minilm_embeddings.json
"""
import json
import math
import struct
import sys

import numpy as np
from tokenizers import Tokenizer

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "",
    "IPFS addresses content by its hash.",
    "Ünïcödé, 日本語のテキスト, and emoji 🚀 all tokenise.",
    "short",
    "A somewhat longer sentence that talks about running machine learning models inside a web browser with WebGPU.",
    "Numbers like 3.14159 and 2026 are words too.",
    " ".join(["long"] * 300),  # truncated at the model's 256-token limit
]
MAX_TOKENS = 256


def load(model_dir):
    raw = open(f"{model_dir}/model.safetensors", "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    data = raw[8 + n :]
    weights = {}
    for name, entry in header.items():
        if name == "__metadata__" or entry["dtype"] != "F32":  # e.g. the int64 position_ids buffer
            continue
        start, end = entry["data_offsets"]
        weights[name] = np.frombuffer(data[start:end], dtype="<f4").reshape(entry["shape"]).astype(np.float64)
    return weights


def layernorm(x, g, b, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * g + b


def gelu(x):
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def forward(w, cfg, ids, mask):
    heads = cfg["num_attention_heads"]
    eps = cfg["layer_norm_eps"]
    seq = len(ids)
    x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:seq] + w["embeddings.token_type_embeddings.weight"][0]
    x = layernorm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
    d = x.shape[1] // heads
    bias = np.where(np.array(mask) > 0, 0.0, -1e9)
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        lin = lambda h, n: h @ w[p + n + ".weight"].T + w[p + n + ".bias"]
        q = lin(x, "attention.self.query").reshape(seq, heads, d).transpose(1, 0, 2)
        k = lin(x, "attention.self.key").reshape(seq, heads, d).transpose(1, 0, 2)
        v = lin(x, "attention.self.value").reshape(seq, heads, d).transpose(1, 0, 2)
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(d) + bias
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores /= scores.sum(-1, keepdims=True)
        ctx = (scores @ v).transpose(1, 0, 2).reshape(seq, heads * d)
        x = layernorm(lin(ctx, "attention.output.dense") + x, w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], eps)
        h = gelu(lin(x, "intermediate.dense"))
        x = layernorm(lin(h, "output.dense") + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps)
    m = np.array(mask, dtype=np.float64)[:, None]
    pooled = (x * m).sum(0) / m.sum()
    return pooled / np.linalg.norm(pooled)


def main(model_dir):
    cfg = json.load(open(f"{model_dir}/config.json"))
    w = load(model_dir)
    tok = Tokenizer.from_file(f"{model_dir}/tokenizer.json")
    tok.enable_truncation(MAX_TOKENS)
    out = []
    for s in SENTENCES:
        enc = tok.encode(s)
        emb = forward(w, cfg, enc.ids, enc.attention_mask)
        out.append({"text": s, "ids": enc.ids, "mask": enc.attention_mask, "embedding": [float(v) for v in emb]})
    json.dump({"model": "all-MiniLM-L6-v2", "max_tokens": MAX_TOKENS, "sentences": out}, sys.stdout)
    print()


if __name__ == "__main__":
    main(sys.argv[1])
