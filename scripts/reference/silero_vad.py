#!/usr/bin/env python3
"""Independent reference for Silero VAD (`silero-vad==6.2.3`, silero_vad_16k_op15.onnx): makes
a test clip — silence, two sentences spoken by Debian's espeak-ng, silence, noise — as a
16 kHz mono 16-bit WAV, and runs the ONNX file with the `onnxruntime` Python wheel the way
silero's own OnnxWrapper does (512-sample chunks, the previous chunk's last 64 samples
prepended, the LSTM state carried). Writes the per-chunk speech probabilities and where the
speech was put, as JSON.

    apt install espeak-ng; python3 -m venv venv && venv/bin/pip install numpy onnxruntime
    venv/bin/python silero_vad.py MODEL_CACHE sdk-wasm/tests/data > sdk-wasm/tests/data/silero_vad_reference.json
"""
import json
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np
import onnxruntime as ort

RATE = 16000
CHUNK = 512
CONTEXT = 64
SENTENCES = ["The quick brown fox jumps over the lazy dog.", "Voice activity detection finds the speech."]


def speak(text):
    """espeak-ng's voice at 16 kHz mono, as floats in [-1, 1)."""
    with tempfile.NamedTemporaryFile(suffix=".wav") as f:
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", f.name, text], check=True)
        with wave.open(f.name) as w:
            rate, data = w.getframerate(), np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    assert w.getnchannels() == 1
    x = data.astype(np.float64) / 32768.0
    # espeak-ng speaks at 22050 Hz: resample to 16 kHz by linear interpolation (the clip is
    # the test input; any resampling will do, the result is what is written out).
    t = np.arange(int(len(x) * RATE / rate)) * rate / RATE
    return np.interp(t, np.arange(len(x)), x)


def clip():
    rng = np.random.default_rng(5)
    parts, spans, at = [], [], 0
    for piece in [np.zeros(int(0.8 * RATE)), speak(SENTENCES[0]), np.zeros(int(0.7 * RATE)), speak(SENTENCES[1]),
                  np.zeros(int(0.6 * RATE)), rng.normal(0, 0.02, int(0.8 * RATE))]:
        if piece.any() and piece.std() > 0.05:
            spans.append([at / RATE, (at + len(piece)) / RATE])
        parts.append(piece)
        at += len(piece)
    x = np.concatenate(parts) + rng.normal(0, 0.002, at)
    return np.clip(np.round(x * 32767), -32768, 32767).astype(np.int16), spans


def vad_probabilities(cache, samples):
    """The speech probability of each whole 512-sample chunk of 16 kHz float `samples`."""
    session = ort.InferenceSession(str(cache / "silero-vad" / "silero_vad_16k_op15.onnx"), providers=["CPUExecutionProvider"])
    state = np.zeros((2, 1, 128), dtype=np.float32)
    context = np.zeros((1, CONTEXT), dtype=np.float32)
    probabilities = []
    for start in range(0, len(samples) - CHUNK + 1, CHUNK):
        x = np.concatenate([context, samples[None, start:start + CHUNK]], axis=1)
        out, state = session.run(None, {"input": x, "state": state, "sr": np.array(RATE, dtype=np.int64)})
        probabilities.append(float(out[0, 0]))
        context = x[:, -CONTEXT:]
    return probabilities


def main():
    cache, data = Path(sys.argv[1]), Path(sys.argv[2])
    pcm, spans = clip()
    path = data / "audio" / "speech-16k.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())
    samples = pcm.astype(np.float32) / 32768.0
    probabilities = [round(p, 6) for p in vad_probabilities(cache, samples)]
    json.dump({"file": "audio/speech-16k.wav", "sample_rate": RATE, "chunk": CHUNK, "speech_spans_s": spans,
               "probabilities": probabilities}, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
