#!/usr/bin/env python3
"""Independent reference for the safetensors reader: parse model.safetensors with the
Python standard library alone (not our Rust code) and record, for a few tensors, dtype, shape,
sum and the first values. Usage: minilm_tensor_checksums.py MODEL_DIR > OUT.json"""
import json
import math
import struct
import sys

NAMES = [
    "embeddings.word_embeddings.weight",
    "embeddings.LayerNorm.weight",
    "encoder.layer.0.attention.self.query.weight",
    "encoder.layer.5.output.dense.bias",
    "pooler.dense.weight",
]

def main(model_dir):
    with open(f"{model_dir}/model.safetensors", "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    data = raw[8 + n :]
    out = {"tensor_count": sum(1 for k in header if k != "__metadata__"), "tensors": {}}
    for name in NAMES:
        entry = header.get(name)
        if entry is None:
            continue
        start, end = entry["data_offsets"]
        values = struct.unpack(f"<{(end - start) // 4}f", data[start:end])
        out["tensors"][name] = {
            "dtype": entry["dtype"],
            "shape": entry["shape"],
            "sum": math.fsum(values),
            "first": [float(v) for v in values[:4]],
        }
    json.dump(out, sys.stdout, indent=1)
    print()

if __name__ == "__main__":
    main(sys.argv[1])
