//! Whisper tiny.en (CTranslate2 model.bin) against an independent run of the same clips
//! (scripts/reference/whisper_tiny_en.py: faster-whisper's numpy log-mel, the `ctranslate2`
//! wheel's encoder and greedy decoding): log-mel values, encoder rows, and the token ids.

use ipfs_accelerate::audio::wav;
use ipfs_accelerate::models::vad::{segments, SegmentOptions, SileroVad};
use ipfs_accelerate::models::whisper::{Decoding, Whisper};
use ipfs_accelerate::Device;
use serde_json::Value;

fn model(device: &Device) -> Whisper {
    let dir = ipfs_accelerate::weights::model_cache_dir().join("whisper-tiny-en");
    let read = |f: &str| std::fs::read(dir.join(f)).unwrap_or_else(|e| panic!("{}/{f}: {e}; run `cargo xtask setup`", dir.display()));
    pollster::block_on(Whisper::from_files(&read("model.bin"), &read("config.json"), &read("tokenizer.json"), device)).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

fn cosine(a: &[f32], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(&x, &y)| x as f64 * y).sum();
    dot / (a.iter().map(|&x| (x as f64).powi(2)).sum::<f64>().sqrt() * b.iter().map(|y| y * y).sum::<f64>().sqrt())
}

#[test]
fn log_mel_encoder_and_greedy_tokens_match_ctranslate2_on_cpu() {
    let reference = reference();
    let whisper = model(&Device::Cpu);
    for clip in reference["clips"].as_array().unwrap() {
        let file = clip["file"].as_str().unwrap();
        let audio = clip_audio(file);
        let features = pollster::block_on(whisper.features(&audio)).unwrap();
        let frame: Vec<f32> = (0..80).map(|m| features[10 * 80 + m]).collect();
        let worst = frame.iter().zip(floats(&clip["mel_frame_10"])).map(|(&g, w)| (g as f64 - w).abs()).fold(0.0, f64::max);
        let mean = features.iter().map(|&v| v as f64).sum::<f64>() / features.len() as f64;
        assert!(
            worst < 1e-3 && (mean - clip["mel_mean"].as_f64().unwrap()).abs() < 1e-4,
            "{file}: log-mel frame 10 off by {worst}, mean {mean}"
        );

        let encoded = pollster::block_on(whisper.encode(&features)).unwrap();
        let rows = pollster::block_on(encoded.to_vec()).unwrap();
        let width = encoded.dims()[1];
        for (r, want) in clip["encoder_rows"].as_object().unwrap() {
            let r: usize = r.parse().unwrap();
            let c = cosine(&rows[r * width..(r + 1) * width], &floats(want));
            assert!(c >= 0.999, "{file}: encoder row {r} cosine {c}");
        }
        let tokens = pollster::block_on(whisper.decode(&encoded, &Decoding::default())).unwrap();
        let transcript = pollster::block_on(whisper.transcribe(&audio, &Decoding::default())).unwrap();
        println!("{file}: {:?} (mel worst {worst:.1e})", transcript.text);
        assert_eq!(tokens, ids(&clip["tokens"]), "{file}: greedy tokens");
        assert_eq!(transcript.text, clip["text"].as_str().unwrap().trim(), "{file}");
    }
}

/// scripts/reference/whisper_tiny_en.py's output.
fn reference() -> Value {
    serde_json::from_str(include_str!("data/whisper_tiny_en_reference.json")).unwrap()
}

fn ids(v: &Value) -> Vec<u32> {
    v.as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect()
}

fn clip_audio(file: &str) -> ipfs_accelerate::audio::Audio {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(file);
    wav::read(&std::fs::read(path).unwrap()).unwrap()
}

/// Beam search (5 beams) and timestamps, each decoding CTranslate2 made of each clip (beam 5
/// differs from greedy on two of them, so the search itself is checked, not only the model).
#[test]
fn beam_search_and_timestamps_match_ctranslate2_on_cpu() {
    let reference = reference();
    let whisper = model(&Device::Cpu);
    for clip in reference["clips"].as_array().unwrap() {
        let file = clip["file"].as_str().unwrap();
        let encoded = pollster::block_on(whisper.encode(&pollster::block_on(whisper.features(&clip_audio(file))).unwrap())).unwrap();
        for (name, want) in clip["decodings"].as_object().unwrap() {
            let decoding = Decoding { beam: if name.ends_with("beam5") { 5 } else { 1 }, timestamps: name.starts_with("timestamps") };
            let got = pollster::block_on(whisper.decode(&encoded, &decoding)).unwrap();
            assert_eq!(got, ids(want), "{file}: {name}");
        }
    }
}

/// Timestamps become timed pieces of text inside the clip: here one, from `<|0.00|>` to the
/// closing timestamp CTranslate2 chose.
#[test]
fn timestamps_give_timed_pieces() {
    let reference = reference();
    let clip = &reference["clips"][1];
    let want = ids(&clip["decodings"]["timestamps_beam1"]);
    let whisper = model(&Device::Cpu);
    let audio = clip_audio(clip["file"].as_str().unwrap());
    let t = pollster::block_on(whisper.transcribe(&audio, &Decoding { beam: 1, timestamps: true })).unwrap();
    assert_eq!(t.tokens, want);
    let end = f64::from(want[want.len() - 1] - want[0]) * ipfs_accelerate::models::whisper::TIMESTAMP_STEP;
    assert_eq!(t.pieces.len(), 1, "{:?}", t.pieces);
    let p = &t.pieces[0];
    assert!(p.start == 0.0 && (p.end - end).abs() < 1e-9 && p.end < audio.seconds(), "{p:?}, want 0 → {end}");
    assert_eq!(p.text, t.text);
    assert!(!t.text.is_empty() && !t.text.contains("<|"), "{}", t.text);
}

/// A long clip (the three clips with silences, 46 s): Silero VAD's segments equal those
/// silero's own `get_speech_timestamps_from_probs` made of onnxruntime's probabilities, and
/// each window they are packed into decodes to CTranslate2's tokens.
#[test]
fn a_long_clip_cut_by_vad_matches_the_reference_window_by_window() {
    let reference = reference();
    let long = &reference["long"];
    let mut samples = Vec::new();
    for part in long["parts"].as_array().unwrap() {
        match part.as_str() {
            Some(file) => samples.extend(clip_audio(file).samples),
            None => samples.resize(samples.len() + (part.as_f64().unwrap() * 16_000.0) as usize, 0.0),
        }
    }
    samples.resize(long["padded_samples"].as_u64().unwrap() as usize, 0.0);
    let audio = ipfs_accelerate::audio::Audio::new(16_000, samples).unwrap();
    let vad_dir = ipfs_accelerate::weights::model_cache_dir().join("silero-vad");
    let vad = pollster::block_on(SileroVad::from_onnx(&std::fs::read(vad_dir.join("silero_vad_16k_op15.onnx")).unwrap())).unwrap();
    let probabilities = pollster::block_on(vad.probabilities(&audio)).unwrap();
    let found = segments(&probabilities, audio.samples.len(), audio.rate, &SegmentOptions::default()).unwrap();
    let in_samples: Vec<[u64; 2]> =
        found.iter().map(|s| [(s.start * 16_000.0).round() as u64, (s.end * 16_000.0).round() as u64]).collect();
    let want: Vec<[u64; 2]> = serde_json::from_value(long["segments_samples"].clone()).unwrap();
    assert_eq!(in_samples, want, "VAD segments");

    let whisper = model(&Device::Cpu);
    let spans: Vec<(f64, f64)> = found.iter().map(|s| (s.start, s.end)).collect();
    let windows = pollster::block_on(whisper.transcribe_long(&audio, Some(&spans), &Decoding::default())).unwrap();
    let want = long["windows"].as_array().unwrap();
    assert_eq!(windows.len(), want.len(), "windows");
    for ((start, end, t), w) in windows.iter().zip(want) {
        assert!(
            (start - w["start"].as_f64().unwrap()).abs() < 1e-9 && (end - w["end"].as_f64().unwrap()).abs() < 1e-9,
            "window {start}–{end}"
        );
        assert_eq!(t.tokens, ids(&w["tokens"]), "window {start}–{end}: {}", t.text);
    }
}

/// The same arithmetic through the wgpu kernels (lavapipe here: one clip, the encoder alone
/// takes seconds on a CPU-emulated GPU).
#[test]
fn greedy_tokens_match_ctranslate2_on_wgpu() {
    let reference = reference();
    let whisper = model(&pollster::block_on(Device::gpu()).expect("a wgpu adapter (lavapipe on CI)"));
    let clip = &reference["clips"][0];
    let audio = clip_audio(clip["file"].as_str().unwrap());
    let got = pollster::block_on(whisper.transcribe(&audio, &Decoding::default())).unwrap();
    assert_eq!(got.tokens, ids(&clip["tokens"]));
}

#[test]
fn a_truncated_model_bin_is_a_named_error() {
    let dir = ipfs_accelerate::weights::model_cache_dir().join("whisper-tiny-en");
    let bytes = std::fs::read(dir.join("model.bin")).unwrap();
    let (config, tokenizer) = (std::fs::read(dir.join("config.json")).unwrap(), std::fs::read(dir.join("tokenizer.json")).unwrap());
    let err =
        pollster::block_on(Whisper::from_files(&bytes[..bytes.len() / 2], &config, &tokenizer, &Device::Cpu)).err().unwrap().to_string();
    assert!(err.contains("CTranslate2") && err.contains("the file ends"), "{err}");
}
