//! Whisper tiny.en (CTranslate2 model.bin) against an independent run of the same clips
//! (scripts/reference/whisper_tiny_en.py: faster-whisper's numpy log-mel, the `ctranslate2`
//! wheel's encoder and greedy decoding): log-mel values, encoder rows, and the token ids.

use ipfs_accelerate::audio::wav;
use ipfs_accelerate::models::whisper::Whisper;
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
    let reference: Value = serde_json::from_str(include_str!("data/whisper_tiny_en_reference.json")).unwrap();
    let whisper = model(&Device::Cpu);
    for clip in reference["clips"].as_array().unwrap() {
        let file = clip["file"].as_str().unwrap();
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(file);
        let audio = wav::read(&std::fs::read(path).unwrap()).unwrap();
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
        let tokens = pollster::block_on(whisper.greedy(&encoded)).unwrap();
        let want: Vec<u32> = clip["tokens"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect();
        let transcript = pollster::block_on(whisper.transcribe(&audio)).unwrap();
        println!("{file}: {:?} (mel worst {worst:.1e})", transcript.text);
        assert_eq!(tokens, want, "{file}: greedy tokens");
        assert_eq!(transcript.text, clip["text"].as_str().unwrap().trim(), "{file}");
    }
}

/// The same arithmetic through the wgpu kernels (lavapipe here: one clip, the encoder alone
/// takes seconds on a CPU-emulated GPU).
#[test]
fn greedy_tokens_match_ctranslate2_on_wgpu() {
    let reference: Value = serde_json::from_str(include_str!("data/whisper_tiny_en_reference.json")).unwrap();
    let whisper = model(&pollster::block_on(Device::gpu()).expect("a wgpu adapter (lavapipe on CI)"));
    let clip = &reference["clips"][0];
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(clip["file"].as_str().unwrap());
    let audio = wav::read(&std::fs::read(path).unwrap()).unwrap();
    let got = pollster::block_on(whisper.transcribe(&audio)).unwrap();
    let want: Vec<u32> = clip["tokens"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect();
    assert_eq!(got.tokens, want);
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
