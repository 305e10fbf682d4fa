//! Silero VAD (`silero_vad_16k_op15.onnx`) against ONNX Runtime's own run of the file on the
//! same clip, chunk by chunk with the state carried (scripts/reference/silero_vad.py): every
//! chunk's probability within 1e-3, and segments where the speech was put.

use ipfs_accelerate::audio::{wav, Audio};
use ipfs_accelerate::models::vad::{segments, SegmentOptions, SileroVad};
use serde_json::Value;

fn model() -> SileroVad {
    let path = ipfs_accelerate::weights::model_cache_dir().join("silero-vad/silero_vad_16k_op15.onnx");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}; run `cargo xtask setup`", path.display()));
    pollster::block_on(SileroVad::from_onnx(&bytes)).unwrap()
}

fn clip(reference: &Value) -> Audio {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(reference["file"].as_str().unwrap());
    wav::read(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn probabilities_match_onnx_runtime_and_segments_cover_the_speech() {
    let reference: Value = serde_json::from_str(include_str!("data/silero_vad_reference.json")).unwrap();
    let audio = clip(&reference);
    assert_eq!(audio.rate, 16_000);
    let vad = model();
    let got = pollster::block_on(vad.probabilities(&audio)).unwrap();
    let want: Vec<f64> = reference["probabilities"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    assert_eq!(got.len(), want.len() + 1, "one more chunk: the last partial one, padded");
    let worst = got.iter().zip(&want).map(|(&g, &w)| (g as f64 - w).abs()).fold(0.0, f64::max);
    println!("worst probability difference over {} chunks: {worst:.2e}", want.len());
    assert!(worst < 1e-3, "worst difference {worst}");

    let found = segments(&got, audio.samples.len(), audio.rate, &SegmentOptions::default()).unwrap();
    let spans = reference["speech_spans_s"].as_array().unwrap();
    assert_eq!(found.len(), spans.len(), "{found:?} vs {spans:?}");
    for (s, span) in found.iter().zip(spans) {
        let (start, end) = (span[0].as_f64().unwrap(), span[1].as_f64().unwrap());
        // espeak's clips begin and end with a little silence of their own.
        assert!(s.start >= start - 0.1 && s.start <= start + 0.3, "{s:?} vs {span}");
        assert!(s.end >= end - 0.6 && s.end <= end + 0.1, "{s:?} vs {span}");
    }
}

#[test]
fn another_sample_rate_is_resampled_and_bad_audio_is_refused() {
    let reference: Value = serde_json::from_str(include_str!("data/silero_vad_reference.json")).unwrap();
    let audio = clip(&reference);
    let at_48k = Audio::new(48_000, ipfs_accelerate::audio::resample::resample(&audio.samples, 16_000, 48_000)).unwrap();
    let vad = model();
    let got = pollster::block_on(vad.probabilities(&at_48k)).unwrap();
    let want: Vec<f64> = reference["probabilities"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    // Up and down again is not the identity, but speech stays speech.
    let agree = got.iter().zip(&want).filter(|(&g, &w)| (g > 0.5) == (w > 0.5)).count();
    assert!(agree as f64 >= 0.97 * want.len() as f64, "{agree} of {} chunks agree", want.len());
    assert!(Audio::new(16_000, vec![]).unwrap_err().to_string().contains("empty"));
    assert!(Audio::new(16_000, vec![0.0, f32::NAN]).unwrap_err().to_string().contains("sample 1"));
}
