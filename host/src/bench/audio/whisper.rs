//! Whisper tiny.en in the audio suite, ours natively: the encoder over one 30-second window,
//! a decoder step, and the three reference clips transcribed (greedy, and by beam search with
//! 5 beams), with the real-time factor; the accuracy is how many clips' tokens differ from the
//! ctranslate2 reference.

use super::KERNEL_WHISPER;
use crate::backends::ort_whisper::OrtWhisperEncoder;
use crate::backends::speech::load_whisper;
use crate::bench::ms_since;
use crate::bench::record::{CaseRecord, CaseStatus};
use crate::error::{HostError, Result};
use ipfs_accelerate::audio::{wav, Audio};
use ipfs_accelerate::models::whisper::Decoding;
use std::time::Instant;

const REFERENCE: &str = include_str!("../../../../sdk-wasm/tests/data/whisper_tiny_en_reference.json");
pub(super) const CLIPS: [(&str, &[u8]); 3] = [
    ("audio/whisper-fox.wav", include_bytes!("../../../../sdk-wasm/tests/data/audio/whisper-fox.wav")),
    ("audio/whisper-weather.wav", include_bytes!("../../../../sdk-wasm/tests/data/audio/whisper-weather.wav")),
    ("audio/whisper-noisy.wav", include_bytes!("../../../../sdk-wasm/tests/data/audio/whisper-noisy.wav")),
];

/// Each clip with CTranslate2's greedy and 5-beam tokens.
struct Clip {
    audio: Audio,
    greedy: Vec<u32>,
    beam5: Vec<u32>,
}

fn clips() -> Result<Vec<Clip>> {
    let reference: serde_json::Value =
        serde_json::from_str(REFERENCE).map_err(|e| HostError::Invalid(format!("Whisper reference: {e}")))?;
    let all = reference["clips"].as_array().ok_or_else(|| HostError::Invalid("Whisper reference: no clips".into()))?;
    all.iter()
        .map(|c| {
            let file = c["file"].as_str().unwrap_or_default();
            let (_, bytes) = CLIPS.iter().find(|(f, _)| *f == file).ok_or_else(|| HostError::Invalid(format!("{file} is not built in")))?;
            let ids = |v: &serde_json::Value| v.as_array().into_iter().flatten().filter_map(|v| v.as_u64()).map(|v| v as u32).collect();
            Ok(Clip { audio: wav::read(bytes)?, greedy: ids(&c["tokens"]), beam5: ids(&c["decodings"]["text_beam5"]) })
        })
        .collect()
}

pub(super) fn timed(shape: &str, warmup: u32, ms: Vec<f64>, params: serde_json::Value) -> CaseRecord {
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
    let features = whisper.features(&clips[0].audio).await?;
    let (mut encode_ms, mut clip_ms, mut beam_ms, mut step_ms) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut mismatched, mut tokens_out) = (0, 0);
    let audio_seconds: f64 = clips.iter().map(|c| c.audio.seconds()).sum();
    let beam5 = Decoding { beam: 5, timestamps: false };
    for k in 0..warmup + samples {
        let t = Instant::now();
        let encoded = whisper.encode(&features).await?;
        encoded.to_vec().await?; // finished, on any device
        let e = ms_since(t);
        let t = Instant::now();
        mismatched = 0;
        tokens_out = 0;
        for clip in &clips {
            let got = whisper.transcribe(&clip.audio, &Decoding::default()).await?;
            mismatched += usize::from(got.tokens != clip.greedy);
            tokens_out += got.tokens.len();
        }
        let c = ms_since(t);
        let t = Instant::now();
        for clip in &clips {
            mismatched += usize::from(whisper.transcribe(&clip.audio, &beam5).await?.tokens != clip.beam5);
        }
        let b = ms_since(t);
        if k >= warmup {
            encode_ms.push(e);
            clip_ms.push(c);
            beam_ms.push(b);
            // The three clips' time beyond their three encoder passes, per generated token.
            step_ms.push((c - 3.0 * e).max(0.0) / (tokens_out + 3).max(1) as f64);
        }
    }
    let median = |v: &[f64]| crate::bench::stats::Stats::of(v).map(|s| s.median).unwrap_or(f64::NAN);
    let rtf = |ms: &[f64]| audio_seconds / (median(ms) / 1e3);
    let clip_params = |ms: &[f64], beam: usize| serde_json::json!({ "model": KERNEL_WHISPER, "audio_seconds": audio_seconds, "real_time_factor": rtf(ms), "tokens": tokens_out, "beam": beam });
    records.push(timed("encoder 30 s window", warmup, encode_ms, serde_json::json!({ "model": KERNEL_WHISPER, "frames": 3000 })));
    records.push(timed("decoder per token", warmup, step_ms, serde_json::json!({ "model": KERNEL_WHISPER, "tokens": tokens_out })));
    records.push(timed("3 clips", warmup, clip_ms.clone(), clip_params(&clip_ms, 1)));
    records.push(timed("3 clips beam 5", warmup, beam_ms.clone(), clip_params(&beam_ms, 5)));
    for rec in records.iter_mut().filter(|r| r.status == CaseStatus::Ok) {
        rec.max_abs_err = Some(mismatched as f64);
        if mismatched > 0 {
            rec.status = CaseStatus::Mismatch;
            rec.error =
                Some(format!("{mismatched} of {} decodings (greedy and beam 5) differ from the ctranslate2 reference", 2 * clips.len()));
        }
    }
    Ok(records)
}

/// ONNX Runtime's run of the encoder (exported from the same model.bin) over the first clip's
/// 30 s window, with 1 − the worst cosine to ctranslate2's encoder rows as its error.
pub async fn ort_encoder_case(warmup: u32, samples: u32) -> CaseRecord {
    let shape = "encoder 30 s window";
    match ort_encoder(warmup, samples).await {
        Ok((ms, error)) => {
            let mut rec =
                timed(shape, warmup, ms, serde_json::json!({ "model": KERNEL_WHISPER, "frames": 3000, "exported": "onnx from model.bin" }));
            rec.max_abs_err = Some(error);
            rec.tolerance = ENCODER_COSINE_TOLERANCE;
            if error > ENCODER_COSINE_TOLERANCE {
                rec.status = CaseStatus::Mismatch;
                rec.error = Some(format!("encoder rows' cosine to ctranslate2 falls {error:.1e} short of 1"));
            }
            rec
        }
        Err(e) => CaseRecord::failed(KERNEL_WHISPER, shape, CaseStatus::Error, &e.to_string()),
    }
}

/// Encoder rows within this of cosine 1 to ctranslate2's (the reference tests' bound).
const ENCODER_COSINE_TOLERANCE: f64 = 1e-3;

async fn ort_encoder(warmup: u32, samples: u32) -> Result<(Vec<f64>, f64)> {
    let path = ipfs_accelerate::weights::model_cache_dir().join("whisper-tiny-en/model.bin");
    let bytes = std::fs::read(&path).map_err(|e| HostError::Invalid(format!("{}: {e} (run `cargo xtask setup`)", path.display())))?;
    let mut encoder = OrtWhisperEncoder::load(&bytes).await?;
    let clip = clips()?.remove(0);
    let features = ipfs_accelerate::audio::mel::log_mel(&clip.audio).await?;
    let mut ms = Vec::new();
    let mut encoded = Vec::new();
    for k in 0..warmup + samples {
        let t = Instant::now();
        encoded = encoder.encode(&features)?;
        if k >= warmup {
            ms.push(ms_since(t));
        }
    }
    let reference: serde_json::Value =
        serde_json::from_str(REFERENCE).map_err(|e| HostError::Invalid(format!("Whisper reference: {e}")))?;
    let width = encoded.len() / 1500;
    let mut worst: f64 = 1.0;
    for (r, want) in reference["clips"][0]["encoder_rows"].as_object().into_iter().flatten() {
        let r: usize = r.parse().map_err(|_| HostError::Invalid(format!("Whisper reference: row {r}")))?;
        let want: Vec<f64> = want.as_array().into_iter().flatten().filter_map(|v| v.as_f64()).collect();
        let got = encoded.get(r * width..(r + 1) * width).unwrap_or_default();
        let dot: f64 = got.iter().zip(&want).map(|(&g, w)| f64::from(g) * w).sum();
        let norms = got.iter().map(|&g| f64::from(g).powi(2)).sum::<f64>().sqrt() * want.iter().map(|w| w * w).sum::<f64>().sqrt();
        worst = worst.min(dot / norms);
    }
    Ok((ms, 1.0 - worst))
}

/// The Whisper cases of a page running ours (`benchSpeech` with the reference clips): the
/// encoder over a 30 s window and the three clips transcribed greedily, their tokens
/// checked against ctranslate2's.
pub async fn browser_cases(session: &crate::browser::BrowserSession, spec: serde_json::Value) -> Vec<CaseRecord> {
    match browser_measure(session, spec).await {
        Ok(records) => records,
        Err(e) => vec![CaseRecord::failed(KERNEL_WHISPER, "load", CaseStatus::Error, &e)],
    }
}

async fn browser_measure(
    session: &crate::browser::BrowserSession,
    mut spec: serde_json::Value,
) -> std::result::Result<Vec<CaseRecord>, String> {
    use base64::Engine as _;
    let b64 = |bytes: &[u8]| serde_json::Value::from(base64::engine::general_purpose::STANDARD.encode(bytes));
    let reference = clips().map_err(|e| e.to_string())?;
    spec["clips"] = CLIPS.iter().map(|(_, bytes)| b64(bytes)).collect();
    let args = vec![MODEL_URL.into(), b64(CLIPS[0].1), spec.clone()];
    let reply = session.call("benchSpeech", args).await.map_err(|e| e.to_string())?;
    let floats = |v: &serde_json::Value| v.as_array().into_iter().flatten().filter_map(|x| x.as_f64()).collect::<Vec<f64>>();
    let warmup = spec["warmup"].as_u64().unwrap_or(0) as u32;
    let got: Vec<Vec<u32>> =
        reply["tokens"].as_array().into_iter().flatten().map(|t| floats(t).into_iter().map(|x| x as u32).collect()).collect();
    let mismatched = reference.iter().enumerate().filter(|(i, c)| got.get(*i) != Some(&c.greedy)).count();
    let audio_seconds: f64 = reference.iter().map(|c| c.audio.seconds()).sum();
    let clip_ms = floats(&reply["clipMs"]);
    let median = crate::bench::stats::Stats::of(&clip_ms).map(|s| s.median).unwrap_or(f64::NAN);
    let mut records = vec![
        timed("load", 0, vec![reply["loadMs"].as_f64().unwrap_or(f64::NAN)], serde_json::json!({ "model": KERNEL_WHISPER })),
        timed("encoder 30 s window", warmup, floats(&reply["ms"]), serde_json::json!({ "model": KERNEL_WHISPER, "frames": 3000 })),
        timed(
            "3 clips",
            warmup,
            clip_ms,
            serde_json::json!({ "model": KERNEL_WHISPER, "audio_seconds": audio_seconds, "real_time_factor": audio_seconds / (median / 1e3), "beam": 1 }),
        ),
    ];
    for rec in &mut records {
        rec.max_abs_err = Some(mismatched as f64);
        if mismatched > 0 {
            rec.status = CaseStatus::Mismatch;
            rec.error = Some(format!("{mismatched} of {} clips' greedy tokens differ from the ctranslate2 reference", reference.len()));
        }
    }
    Ok(records)
}

/// Where the runner serves the model's files.
pub(super) const MODEL_URL: &str = "/models/whisper-tiny-en/";
