//! The audio suite natively: ours on the CPU, and ONNX Runtime chunk by chunk.

use super::{apply_accuracy, clip_case, failed, load_case, Options, CLIP};
use crate::backends::ort_vad::OrtVad;
use crate::backends::speech::{load_vad, silero_vad_path};
use crate::bench::progress;
use crate::bench::record::EnvRecord;
use crate::error::Result;
use ipfs_accelerate::audio::{wav, Audio};
use ipfs_accelerate::models::vad::SileroVad;
use ipfs_accelerate::AdapterSummary;
use std::time::Instant;

enum Vad {
    Ours(Box<SileroVad>),
    Ort(OrtVad),
}

impl Vad {
    async fn probabilities(&mut self, audio: &Audio) -> Result<Vec<f32>> {
        match self {
            Vad::Ours(v) => Ok(v.probabilities(audio).await?),
            Vad::Ort(o) => o.probabilities(&audio.samples),
        }
    }
}

pub async fn run(backend: &str, label: &str, opts: &Options) -> EnvRecord {
    let audio = match wav::read(CLIP) {
        Ok(a) => a,
        Err(e) => return failed(label, e.to_string()),
    };
    let t = Instant::now();
    let loaded = match backend {
        "ort-cpu" => OrtVad::load(&silero_vad_path()).map(Vad::Ort),
        _ => load_vad().await.map(|v| Vad::Ours(Box::new(v))),
    };
    let mut vad = match loaded {
        Ok(v) => v,
        Err(e) => return failed(label, e.to_string()),
    };
    let load_ms = t.elapsed().as_secs_f64() * 1e3;
    let adapter = match &vad {
        Vad::Ort(o) => o.adapter(),
        Vad::Ours(_) => AdapterSummary { name: "ours, CPU".into(), device_type: "Cpu".into(), ..AdapterSummary::default() },
    };
    progress(format!("{label}: silero-vad on {}", adapter.name));
    let mut ms = Vec::new();
    let mut chunks = 0;
    for k in 0..opts.warmup + opts.samples {
        let t = Instant::now();
        match vad.probabilities(&audio).await {
            Ok(p) => chunks = p.len(),
            Err(e) => return failed(label, e.to_string()),
        }
        if k >= opts.warmup {
            ms.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    let mut records = vec![load_case(load_ms), clip_case(opts.warmup, ms, chunks, audio.seconds())];
    apply_accuracy(&mut records, vad.probabilities(&audio).await.map_err(|e| e.to_string()));
    if backend == "ours-cpu" {
        progress(format!("{label}: whisper-tiny.en"));
        records.extend(super::whisper::cases(backend, opts.warmup, opts.samples).await);
    } else {
        progress(format!("{label}: whisper-tiny.en encoder (exported to ONNX)"));
        records.push(super::whisper::ort_encoder_case(opts.warmup, opts.samples).await);
    }
    EnvRecord::new(label, adapter, records)
}
