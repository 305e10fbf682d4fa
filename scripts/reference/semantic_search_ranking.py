#!/usr/bin/env python3
"""Independent reference for examples/semantic-search: ranks the app's shipped sentences against
each query by cosine similarity of all-MiniLM-L6-v2 embeddings computed by the numpy float64
forward pass in minilm_embeddings.py (no code of ours involved). Writes the top 5 per query.

    python3 -m venv venv && venv/bin/pip install numpy tokenizers
    venv/bin/python semantic_search_ranking.py MODEL_DIR > sdk-wasm/tests/data/semantic_search_ranking.json
"""
import json
import os
import sys

import numpy as np
from tokenizers import Tokenizer

from minilm_embeddings import MAX_TOKENS, forward, load

QUERIES = ["how do I bake bread at home", "which planet is the biggest"]
HERE = os.path.dirname(os.path.abspath(__file__))
SENTENCES = os.path.join(HERE, "../../examples/semantic-search/src/sentences.json")


def main(model_dir):
    cfg = json.load(open(f"{model_dir}/config.json"))
    w = load(model_dir)
    tok = Tokenizer.from_file(f"{model_dir}/tokenizer.json")
    tok.enable_truncation(MAX_TOKENS)
    embed = lambda text: forward(w, cfg, *(lambda e: (e.ids, e.attention_mask))(tok.encode(text)))
    sentences = json.load(open(SENTENCES))
    corpus = np.stack([embed(s) for s in sentences])
    out = []
    for q in QUERIES:
        scores = corpus @ embed(q)
        top = np.argsort(-scores)[:5]
        out.append({"query": q, "top": [{"text": sentences[i], "score": float(scores[i])} for i in top]})
    json.dump({"model": "all-MiniLM-L6-v2", "queries": out}, sys.stdout, indent=1, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main(sys.argv[1])
