//! Whisper on a GPU natively (wgpu; lavapipe without a GPU, a software adapter): the encoder
//! over a 30 s window, and the product's shader-precompilation promise measured — the first
//! transcription on a fresh device, once compiling pipelines as ops first need them and once
//! after `Device::precompile_shaders` compiled them all at load. Each first call is one
//! sample on its own fresh device; the two orders alternate so neither always runs second
//! (the driver's own on-disk shader cache, where it has one, serves both alike).

use super::whisper::{timed, CLIPS};
use super::KERNEL_WHISPER;
use crate::backends::speech::load_whisper;
use crate::bench::ms_since;
use crate::bench::record::{CaseRecord, CaseStatus};
use crate::error::Result;
use ipfs_accelerate::audio::wav;
use ipfs_accelerate::models::whisper::Decoding;
use ipfs_accelerate::AdapterSummary;
use std::time::Instant;

/// The cases, and the adapter they ran on.
pub async fn cases(backend: &str, warmup: u32, samples: u32) -> (AdapterSummary, Vec<CaseRecord>) {
    match measure(backend, warmup, samples).await {
        Ok(done) => done,
        Err(e) => (AdapterSummary::default(), vec![CaseRecord::failed(KERNEL_WHISPER, "load", CaseStatus::Error, &e.to_string())]),
    }
}

/// One first transcription on a fresh device: (ms of precompiling, ms of the first call,
/// pipelines compiled by loading, pipelines in the end).
async fn first_call(backend: &str, precompile: bool) -> Result<(f64, f64, usize, usize)> {
    let audio = wav::read(CLIPS[0].1)?;
    let whisper = load_whisper(backend).await?;
    let device = whisper.device().clone();
    let after_load = device.compiled_pipelines();
    let t = Instant::now();
    if precompile {
        device.precompile_shaders().await?;
    }
    let compile_ms = ms_since(t);
    let t = Instant::now();
    whisper.transcribe(&audio, &Decoding::default()).await?;
    Ok((compile_ms, ms_since(t), after_load, device.compiled_pipelines()))
}

async fn measure(backend: &str, warmup: u32, samples: u32) -> Result<(AdapterSummary, Vec<CaseRecord>)> {
    let t = Instant::now();
    let whisper = load_whisper(backend).await?;
    let adapter = whisper.device().summary();
    let (warmup, samples) = capped_on_software(adapter.software, warmup, samples);
    let mut records = vec![timed("load", 0, vec![ms_since(t)], serde_json::json!({ "model": KERNEL_WHISPER }))];
    let features = whisper.features(&wav::read(CLIPS[0].1)?).await?;
    let mut encode_ms = Vec::new();
    for k in 0..warmup + samples {
        let t = Instant::now();
        whisper.encode(&features).await?.to_vec().await?;
        if k >= warmup {
            encode_ms.push(ms_since(t));
        }
    }
    records.push(timed("encoder 30 s window", warmup, encode_ms, serde_json::json!({ "model": KERNEL_WHISPER, "frames": 3000 })));
    drop(whisper);
    let (mut plain, mut precompiled, mut compile) = (Vec::new(), Vec::new(), Vec::new());
    let mut pipelines = Pipelines::default();
    for round in 0..2 {
        for precompile in if round == 0 { [false, true] } else { [true, false] } {
            let (c, first, at_load, total) = first_call(backend, precompile).await?;
            if precompile {
                precompiled.push(first);
                compile.push(c);
                pipelines.precompiled = total;
            } else {
                plain.push(first);
                (pipelines.by_load, pipelines.after_first_call) = (Some(at_load), Some(total));
            }
        }
    }
    records.extend(first_call_records(plain, precompiled, compile, pipelines));
    Ok((adapter, records))
}

/// Timed runs of one encoder pass on a software adapter (tens of seconds each there): at
/// most 1 warm-up and 3 samples, so a full run stays within minutes.
pub(super) fn capped_on_software(software: bool, warmup: u32, samples: u32) -> (u32, u32) {
    if software {
        (warmup.min(1), samples.min(3))
    } else {
        (warmup, samples)
    }
}

/// Pipeline counts beside the first calls (`None` where the backend does not report them).
#[derive(Default)]
pub(super) struct Pipelines {
    pub by_load: Option<usize>,
    pub after_first_call: Option<usize>,
    pub precompiled: usize,
}

/// The two first-call cases: without precompiling (`plain`) and after it (`precompiled`,
/// having spent `compile` ms on it), with the share of the first call it cut.
pub(super) fn first_call_records(plain: Vec<f64>, precompiled: Vec<f64>, compile: Vec<f64>, pipelines: Pipelines) -> Vec<CaseRecord> {
    let median = |v: &[f64]| crate::bench::stats::Stats::of(v).map(|s| s.median).unwrap_or(f64::NAN);
    let (p, q, c) = (median(&plain), median(&precompiled), median(&compile));
    vec![
        timed(
            "first call",
            0,
            plain,
            serde_json::json!({
                "model": KERNEL_WHISPER, "pipelines_compiled_by_load": pipelines.by_load,
                "pipelines_after_first_call": pipelines.after_first_call,
            }),
        ),
        timed(
            "first call, shaders precompiled",
            0,
            precompiled,
            serde_json::json!({
                "model": KERNEL_WHISPER, "precompile_ms": c, "pipelines_precompiled": pipelines.precompiled,
                "first_call_cut": 1.0 - q / p, "first_call_cut_counting_precompile": 1.0 - (q + c) / p,
            }),
        ),
    ]
}
