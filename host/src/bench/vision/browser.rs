//! The vision suite in a real browser: ours through the npm package's `loadImageModel` and
//! `run(blob)` (the browser decodes the PNGs), on the wasm CPU path with every core and on
//! WebGPU — a software adapter here, so one picture, once, for correctness.

use super::inputs::{references, worst_error, ReferenceImage, WORKLOADS};
use super::{apply_accuracy, case, failed, timed_batch, Options, KERNEL};
use crate::bench::progress;
use crate::bench::record::{CaseRecord, CaseStatus, EnvRecord};
use crate::bench::software::{skipped_by_quick, software_webgpu};
use crate::bench::{EngineBuild, BEST};
use crate::browser::{BrowserInstall, BrowserSession};
use base64::Engine as _;
use ipfs_accelerate::vision::Heatmap;
use ipfs_accelerate::AdapterSummary;
use serde_json::{json, Value};

const MODEL_URL: &str = "/models/vit-focus/";

/// (device the page prefers, build, record label).
pub const ENGINES: [(&str, EngineBuild, &str); 2] = [("cpu", BEST, "browser-cpu-threads"), ("webgpu", BEST, "browser-webgpu")];

fn pngs(refs: &[&ReferenceImage]) -> Value {
    refs.iter().map(|r| Value::from(base64::engine::general_purpose::STANDARD.encode(r.png))).collect()
}

pub async fn run(
    install: &BrowserInstall,
    runner_url: &str,
    (prefer, build, label): (&str, EngineBuild, &str),
    opts: &Options,
) -> EnvRecord {
    let browser = install.kind.name();
    let mut env = match BrowserSession::launch(install, runner_url).await {
        Err(e) => failed(label, "load", e.to_string()),
        Ok(session) => {
            let software = if prefer == "webgpu" { software_webgpu(&session, build).await } else { None };
            let mut env = match software {
                Some(adapter) if opts.quick => skipped_by_quick(label, adapter, KERNEL, "one picture takes seconds"),
                _ => measure(&session, prefer, build, label, software.is_some(), opts).await,
            };
            env.ran_in(&session);
            if let Err(e) = session.close().await {
                progress(format!("{browser}: closing failed: {e}"));
            }
            env
        }
    };
    env.browser = Some(browser.into());
    env
}

async fn measure(session: &BrowserSession, prefer: &str, build: EngineBuild, label: &str, software: bool, opts: &Options) -> EnvRecord {
    let refs = match references() {
        Ok(r) => r,
        Err(e) => return failed(label, "inputs", e.to_string()),
    };
    let runs = if software { &WORKLOADS[..1] } else { &WORKLOADS[..] };
    let (warmup, samples) = if software { (0, 1) } else { (opts.warmup, opts.samples) };
    progress(format!("{label} ({}): {KERNEL}, {samples} samples", session.kind.name()));
    let batch_json: serde_json::Map<String, Value> = runs.iter().map(|w| (w.label.to_string(), pngs(&w.of(&refs)))).collect();
    let spec = json!({ "prefer": [prefer], "engine": build.json(), "warmup": warmup, "samples": samples });
    let reply = match session.call("benchImages", vec![MODEL_URL.into(), batch_json.into(), spec]).await {
        Ok(r) => r,
        Err(e) => return failed(label, "load", e.to_string()),
    };
    let adapter: AdapterSummary = serde_json::from_value(reply["adapter"].clone()).unwrap_or_default();
    let ms = |v: &Value| v.as_f64().map(|m| vec![m]).unwrap_or_default();
    let mut records = vec![case("load", 0, 0, ms(&reply["loadMs"])), case("first call b1", 1, 0, ms(&reply["firstMs"]))];
    for w in &WORKLOADS {
        let samples: Vec<f64> = reply["cases"][w.label].as_array().into_iter().flatten().filter_map(Value::as_f64).collect();
        records.push(if samples.is_empty() {
            CaseRecord::failed(KERNEL, w.label, CaseStatus::Unavailable, "software adapter (CPU-emulated GPU): only b1 is run")
        } else {
            timed_batch(w.label, w.pictures.len(), warmup, samples)
        });
    }
    let checked: Vec<&ReferenceImage> = if software { vec![&refs[0]] } else { refs.iter().collect() };
    let worst = accuracy(session, prefer, build, &checked).await;
    apply_accuracy(&mut records, worst);
    if prefer == "cpu" {
        progress(format!("{label} ({}): loading two models in parallel and one after another", session.kind.name()));
        records.extend(super::parallel_loads::cases(session, samples).await);
    }
    let mut env = EnvRecord::new(label, adapter, records);
    if reply["device"].as_str() != Some(prefer) {
        env.unavailable_reason = Some(format!("the page ran on {} instead of {prefer}", reply["device"]));
    }
    env
}

/// The worst score error of the pictures in `refs`, run in one call.
async fn accuracy(session: &BrowserSession, prefer: &str, build: EngineBuild, refs: &[&ReferenceImage]) -> Result<f64, String> {
    let mut options = build.json();
    options["prefer"] = json!([prefer]);
    let reply = session.call("seeWithApi", vec![MODEL_URL.into(), pngs(refs), options]).await.map_err(|e| e.to_string())?;
    let heatmaps: Vec<Heatmap> = reply["results"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| Heatmap {
            width: r["width"].as_u64().unwrap_or(0) as usize,
            height: r["height"].as_u64().unwrap_or(0) as usize,
            values: r["values"].as_array().into_iter().flatten().filter_map(Value::as_f64).map(|v| v as f32).collect(),
        })
        .collect();
    worst_error(refs.iter().copied(), &heatmaps).map_err(|e| e.to_string())
}
