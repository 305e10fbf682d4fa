#!/usr/bin/env python3
"""Independent reference for the ONNX MiniLM fixtures: runs each ONNX file with the
`onnxruntime` Python wheel (no code of ours involved), tokenising with the HF `tokenizers`
package, and writes mean-pooled, L2-normalised embeddings of the same sentences as
minilm_embeddings.py, as JSON.

    python3 -m venv venv && venv/bin/pip install numpy tokenizers onnxruntime
    venv/bin/python onnx_minilm_embeddings.py MODEL_CACHE > sdk-wasm/tests/data/onnx_minilm_embeddings.json
"""
import json
import sys

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from minilm_embeddings import SENTENCES

MODELS = {
    # fixture dir: (onnx file, max tokens)
    "paraphrase-minilm-l3-v2": ("paraphrase-MiniLM-L3-v2.onnx", 128),
    "all-minilm-l6-v2-int8": ("model.onnx", 256),
}


def embed(session, tokenizer, text):
    enc = tokenizer.encode(text)
    ids = np.array([enc.ids], dtype=np.int64)
    mask = np.array([enc.attention_mask], dtype=np.int64)
    feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
    names = [i.name for i in session.get_inputs()]
    outputs = session.run(None, {n: feeds[n] for n in names})
    # The token embeddings: the float output of shape [1, seq, hidden].
    hidden = next(o for o in outputs if o.dtype == np.float32 and o.ndim == 3)[0].astype(np.float64)
    pooled = (hidden * mask[0][:, None]).sum(0) / max(mask.sum(), 1)
    return enc.ids, (pooled / np.linalg.norm(pooled)).tolist()


def main(cache):
    out = {"onnxruntime": ort.__version__, "models": {}}
    for name, (file, max_tokens) in MODELS.items():
        session = ort.InferenceSession(f"{cache}/{name}/{file}", providers=["CPUExecutionProvider"])
        tokenizer = Tokenizer.from_file(f"{cache}/{name}/tokenizer.json")
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_tokens)
        sentences = []
        for text in SENTENCES:
            ids, embedding = embed(session, tokenizer, text)
            sentences.append({"text": text, "tokens": len(ids), "embedding": [round(v, 7) for v in embedding]})
        out["models"][name] = {"file": file, "max_tokens": max_tokens, "sentences": sentences}
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main(sys.argv[1])
