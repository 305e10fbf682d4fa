//! Whisper tiny.en in the audio suite, ours natively: the encoder over one 30-second window,
//! a decoder step, and the three reference clips transcribed (greedy), with the real-time
//! factor; the accuracy is how many clips' tokens differ from the ctranslate2 reference.

use super::KERNEL_WHISPER;
use crate::backends::speech::load_whisper;
use crate::bench::ms_since;
use crate::bench::record::{CaseRecord, CaseStatus};
use crate::error::{HostError, Result};
use ipfs_accelerate::audio::{wav, Audio};
use std::time::Instant;

const REFERENCE: &str = include_str!("../../../../sdk-wasm/tests/data/whisper_tiny_en_reference.json");
const CLIPS: [(&str, &[u8]); 3] = [
    ("audio/whisper-fox.wav", include_bytes!("../../../../sdk-wasm/tests/data/audio/whisper-fox.wav")),
    ("audio/whisper-weather.wav", include_bytes!("../../../../sdk-wasm/tests/data/audio/whisper-weather.wav")),
    ("audio/whisper-noisy.wav", include_bytes!("../../../../sdk-wasm/tests/data/audio/whisper-noisy.wav")),
];

fn clips() -> Result<Vec<(Audio, Vec<u32>)>> {
    let reference: serde_json::Value =
        serde_json::from_str(REFERENCE).map_err(|e| HostError::Invalid(format!("Whisper reference: {e}")))?;
    let all = reference["clips"].as_array().ok_or_else(|| HostError::Invalid("Whisper reference: no clips".into()))?;
    all.iter()
        .map(|c| {
            let file = c["file"].as_str().unwrap_or_default();
            let (_, bytes) = CLIPS.iter().find(|(f, _)| *f == file).ok_or_else(|| HostError::Invalid(format!("{file} is not built in")))?;
            let tokens = c["tokens"].as_array().into_iter().flatten().filter_map(|v| v.as_u64()).map(|v| v as u32).collect();
            Ok((wav::read(bytes)?, tokens))
        })
        .collect()
}

fn timed(shape: &str, warmup: u32, ms: Vec<f64>, params: serde_json::Value) -> CaseRecord {
    CaseRecord::timed(KERNEL_WHISPER, shape, params, warmup, ms, 0.0)
}

/// The Whisper cases on `backend` (ours-cpu or ours-wgpu).
pub async fn cases(backend: &str, warmup: u32, samples: u32) -> Vec<CaseRecord> {
    match measure(backend, warmup, samples).await {
        Ok(records) => records,
        Err(e) => vec![CaseRecord::failed(KERNEL_WHISPER, "load", CaseStatus::Error, &e.to_string())],
    }
}

async fn measure(backend: &str, warmup: u32, samples: u32) -> Result<Vec<CaseRecord>> {
    let clips = clips()?;
    let t = Instant::now();
    let whisper = load_whisper(backend).await?;
    let mut records = vec![timed("load", 0, vec![ms_since(t)], serde_json::json!({ "model": KERNEL_WHISPER }))];
    let features = whisper.features(&clips[0].0).await?;
    let (mut encode_ms, mut clip_ms, mut step_ms) = (Vec::new(), Vec::new(), Vec::new());
    let (mut mismatched, mut tokens_out) = (0, 0);
    let audio_seconds: f64 = clips.iter().map(|(a, _)| a.seconds()).sum();
    for k in 0..warmup + samples {
        let t = Instant::now();
        let encoded = whisper.encode(&features).await?;
        encoded.to_vec().await?; // finished, on any device
        let e = ms_since(t);
        let t = Instant::now();
        mismatched = 0;
        tokens_out = 0;
        for (audio, want) in &clips {
            let got = whisper.transcribe(audio, &Decoding::default()).await?;
            mismatched += usize::from(&got.tokens != want);
            tokens_out += got.tokens.len();
        }
        let c = ms_since(t);
        if k >= warmup {
            encode_ms.push(e);
            clip_ms.push(c);
            // The three clips' time beyond their three encoder passes, per generated token.
            step_ms.push((c - 3.0 * e).max(0.0) / (tokens_out + 3).max(1) as f64);
        }
    }
    let median = |v: &[f64]| crate::bench::stats::Stats::of(v).map(|s| s.median).unwrap_or(f64::NAN);
    let rtf = audio_seconds / (median(&clip_ms) / 1e3);
    records.push(timed("encoder 30 s window", warmup, encode_ms, serde_json::json!({ "model": KERNEL_WHISPER, "frames": 3000 })));
    records.push(timed("decoder per token", warmup, step_ms, serde_json::json!({ "model": KERNEL_WHISPER, "tokens": tokens_out })));
    records.push(timed(
        "3 clips",
        warmup,
        clip_ms,
        serde_json::json!({ "model": KERNEL_WHISPER, "audio_seconds": audio_seconds, "real_time_factor": rtf, "tokens": tokens_out }),
    ));
    for rec in records.iter_mut().filter(|r| r.status == CaseStatus::Ok) {
        rec.max_abs_err = Some(mismatched as f64);
        if mismatched > 0 {
            rec.status = CaseStatus::Mismatch;
            rec.error = Some(format!("{mismatched} of {} clips' greedy tokens differ from the ctranslate2 reference", clips.len()));
        }
    }
    Ok(records)
}
