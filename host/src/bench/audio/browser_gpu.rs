//! The audio suite on WebGPU in a real browser, for the product's two GPU promises: the
//! Whisper encoder over one 30 s window in each browser ("Firefox is faster than Chrome for
//! audio models on WebGPU compute shaders"), and the first transcription on a fresh device
//! with and without compiling every pipeline at load ("shader precompilation cuts
//! first-inference time"). Without a GPU both browsers run software adapters (SwiftShader,
//! lavapipe), and the report marks them so.

use super::first_call::{capped_on_software, first_call_records, Pipelines};
use super::whisper::{timed, CLIPS, MODEL_URL};
use super::{failed, KERNEL_WHISPER};
use crate::bench::record::EnvRecord;
use crate::bench::software::software_webgpu;
use crate::bench::{progress, BEST};
use crate::browser::{BrowserInstall, BrowserSession};
use base64::Engine as _;
use ipfs_accelerate::AdapterSummary;
use serde_json::{json, Value};

pub const LABEL: &str = "browser-webgpu";

pub async fn run(install: &BrowserInstall, runner_url: &str, opts: &super::Options) -> EnvRecord {
    let browser = install.kind.name();
    let mut env = match BrowserSession::launch(install, runner_url).await {
        Err(e) => failed(LABEL, e.to_string()),
        Ok(session) => {
            let env = measure(&session, opts).await.unwrap_or_else(|e| failed(LABEL, e));
            if let Err(e) = session.close().await {
                progress(format!("{browser}: closing failed: {e}"));
            }
            env
        }
    };
    env.browser = Some(browser.into());
    env
}

async fn measure(session: &BrowserSession, opts: &super::Options) -> Result<EnvRecord, String> {
    let browser = session.kind.name();
    let wav = base64::engine::general_purpose::STANDARD.encode(CLIPS[0].1);
    let software = software_webgpu(session, BEST).await.is_some();
    let (warmup, samples) = capped_on_software(software, opts.warmup, opts.samples);
    progress(format!("{LABEL} ({browser}): whisper-tiny.en encoder, {samples} samples"));
    let spec = json!({ "warmup": warmup, "samples": samples, "prefer": ["webgpu"] });
    let reply = session.call("benchSpeech", vec![MODEL_URL.into(), wav.clone().into(), spec]).await.map_err(|e| e.to_string())?;
    if reply["device"] != "webgpu" {
        return Err(format!("{browser} gave no WebGPU device: {}", reply["device"]));
    }
    let ms: Vec<f64> = reply["ms"].as_array().into_iter().flatten().filter_map(Value::as_f64).collect();
    let params = json!({ "model": KERNEL_WHISPER, "frames": 3000 });
    let mut records = vec![
        timed("load", 0, vec![reply["loadMs"].as_f64().unwrap_or(f64::NAN)], json!({ "model": KERNEL_WHISPER })),
        timed("encoder 30 s window", warmup, ms, params),
    ];
    let (mut plain, mut precompiled, mut compile) = (Vec::new(), Vec::new(), Vec::new());
    let mut pipelines = Pipelines::default();
    for round in 0..2 {
        for precompile in if round == 0 { [false, true] } else { [true, false] } {
            progress(format!("{LABEL} ({browser}): first call{}", if precompile { ", shaders precompiled" } else { "" }));
            let spec = json!({ "prefer": ["webgpu"], "precompile": precompile });
            let r = session.call("firstSpeechCall", vec![MODEL_URL.into(), wav.clone().into(), spec]).await.map_err(|e| e.to_string())?;
            let first = r["firstMs"].as_f64().ok_or_else(|| format!("first call: {r}"))?;
            if precompile {
                precompiled.push(first);
                compile.push(r["precompileMs"].as_f64().unwrap_or(f64::NAN));
                pipelines.precompiled = r["pipelines"].as_u64().unwrap_or(0) as usize;
            } else {
                plain.push(first);
            }
        }
    }
    records.extend(first_call_records(plain, precompiled, compile, pipelines));
    let mut env = EnvRecord::new(LABEL, serde_json::from_value::<AdapterSummary>(reply["adapter"].clone()).unwrap_or_default(), records);
    env.ran_in(session);
    Ok(env)
}
