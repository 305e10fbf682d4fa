//! The MiniLM suite in a real browser: ours (wasm CPU, WebGPU), onnxruntime-web and
//! transformers.js, each in a fresh browser session on the same locally served files
//! (host/runner/engines.js does the in-page work).

use super::cases::{apply_accuracy, not_run, timed};
use super::inputs::{reference, workloads};
use super::Options;
use crate::backends::{ModelSpec, MODELS};
use crate::bench::record::{CaseRecord, CaseStatus, EnvRecord};
use crate::bench::software::{skipped_by_quick, software_webgpu};
use crate::bench::{progress, BEST};
use crate::browser::{BrowserInstall, BrowserKind, BrowserSession};
use ipfs_accelerate::AdapterSummary;
use serde_json::{json, Value};

/// In-page engines and the record label of each. `browser-cpu` is our one-thread plain-SIMD
/// build (`-relaxed`: with relaxed SIMD) and the incumbents at their own default thread count;
/// each `-threads` row uses every core (ours with relaxed SIMD too), so what each technique
/// gains shows, and the engines compare at equal threads.
pub const ENGINES: [(&str, &str); 11] = [
    ("ours-cpu", "browser-cpu"),
    ("ours-cpu-relaxed", "browser-cpu-relaxed"),
    ("ours-cpu-threads", "browser-cpu-threads"),
    ("ours-cpu-int8", "browser-cpu-int8"),
    ("ours-cpu-threads-int8", "browser-cpu-threads-int8"),
    ("ours-webgpu", "browser-webgpu"),
    ("ours-webnn", "browser-webnn"),
    ("ort-web", "browser-ort-web"),
    ("ort-web-threads", "browser-ort-web-threads"),
    ("transformers-js", "browser-transformers-js"),
    ("transformers-js-threads", "browser-transformers-js-threads"),
];

/// The backend that needs WebNN, which only the `chromium-webnn` browser has here.
pub const WEBNN_LABEL: &str = "browser-webnn";

/// Which browser runs which backend: `browser-webnn` runs in chromium-webnn whether or not
/// `--browsers` names it (no other browser here has a WebNN backend); every other backend runs
/// in the browsers `--browsers` selects, chromium-webnn included when it is named.
pub fn runs_in(label: &str, kind: BrowserKind, selected: bool) -> bool {
    if label == WEBNN_LABEL {
        kind == BrowserKind::ChromiumWebnn
    } else {
        selected
    }
}

fn runs(engine: &str, model: &ModelSpec) -> bool {
    match engine {
        e if e.starts_with("ours-") => model.ours_weights.is_some(),
        "ort-web" | "ort-web-threads" => model.onnx_weights.is_some(),
        _ => model.transformers_js_dtype.is_some(),
    }
}

fn model_json(model: &ModelSpec) -> Value {
    json!({
        "name": model.name,
        "baseUrl": format!("/models/{}/", model.dir),
        "weights": model.ours_weights,
        "onnx": model.onnx_weights,
        "maxTokens": model.max_tokens,
        "hfId": model.dir,
        "hfDtype": model.transformers_js_dtype,
    })
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array().map(|a| a.iter().filter_map(Value::as_f64).map(|x| x as f32).collect()).unwrap_or_default()
}

pub async fn run(install: &BrowserInstall, runner_url: &str, engine: &str, label: &str, opts: &Options) -> EnvRecord {
    let browser = install.kind.name();
    let session = match BrowserSession::launch(install, runner_url).await {
        Ok(s) => s,
        Err(e) => {
            let mut env = EnvRecord::new(label, AdapterSummary::default(), Vec::new());
            env.unavailable_reason = Some(e.to_string());
            env.browser = Some(browser.into());
            return env;
        }
    };
    let skipped = match engine {
        "ours-webgpu" if opts.quick => software_webgpu(&session, BEST).await,
        _ => None,
    };
    let mut env = match skipped {
        Some(adapter) => skipped_by_quick(label, adapter, "minilm", "one model takes minutes"),
        None => run_models(&session, engine, label, opts).await,
    };
    env.browser = Some(browser.into());
    env.ran_in(&session);
    if let Err(e) = session.close().await {
        progress(format!("{browser}: closing failed: {e}"));
    }
    env
}

/// Every model `engine` runs, each workload timed and its accuracy checked, in `session`.
async fn run_models(session: &BrowserSession, engine: &str, label: &str, opts: &Options) -> EnvRecord {
    let browser = session.kind.name();
    let mut records: Vec<CaseRecord> = Vec::new();
    let mut adapter = AdapterSummary::default();
    let mut user_agent = None;
    let mut unavailable = None;
    for model in MODELS.iter().filter(|m| runs(engine, m) && opts.only.model(m.name)) {
        let (work, refs) = match (workloads(model), reference(model)) {
            (Ok(w), Ok(r)) => (w.into_iter().filter(|w| opts.only.workload(&w.label)).collect::<Vec<_>>(), r),
            (Err(e), _) | (_, Err(e)) => {
                records.push(not_run(model, "inputs", CaseStatus::Error, &e.to_string()));
                continue;
            }
        };
        if work.is_empty() {
            continue;
        }
        // The cold call runs the first selected workload (b1×short unless a matrix chose others).
        let first_call = format!("first call {}", work[0].label);
        progress(format!("{label} ({browser}): {}", model.name));
        let spec = json!({
            "engine": engine, "model": model_json(model), "workloads": work, "reference": refs.workload,
            "warmup": opts.warmup, "samples": opts.samples,
        });
        let reply = match session.call("benchEmbeddings", vec![spec]).await {
            Ok(r) => r,
            Err(e) => {
                records.push(not_run(model, "load", CaseStatus::Error, &e.to_string()));
                continue;
            }
        };
        user_agent = reply["userAgent"].as_str().map(String::from);
        if let Some(reason) = reply["unavailable"].as_str() {
            // The SDK has no such device in this browser: the same for every model.
            unavailable = Some(format!("the SDK could not open device {}: {reason}", engine.trim_start_matches("ours-")));
            break;
        }
        adapter = serde_json::from_value(reply["adapter"].clone()).unwrap_or_default();
        let start = records.len();
        records.push(timed(model, "load", "", 0, 0, vec![reply["loadMs"].as_f64().unwrap_or(f64::NAN)]));
        records.push(timed(model, &first_call, &work[0].tokens, work[0].batch, 0, vec![reply["coldMs"].as_f64().unwrap_or(f64::NAN)]));
        for (w, r) in work.iter().zip(reply["workloads"].as_array().into_iter().flatten()) {
            records.push(match r["skipped"].as_str() {
                Some(why) => not_run(model, &w.label, CaseStatus::Unavailable, why),
                None => super::cases::for_workload(model, w, opts.warmup, floats(&r["samplesMs"]).iter().map(|&v| v as f64).collect()),
            });
        }
        let got: Vec<Vec<f32>> = reply["referenceEmbeddings"].as_array().into_iter().flatten().map(floats).collect();
        apply_accuracy(&mut records[start..], model, label, refs.worst_error(&got).map_err(|e| e.to_string()));
    }
    let mut env = EnvRecord::new(label, adapter, records);
    env.unavailable_reason = unavailable;
    env.user_agent = user_agent;
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webnn_backend_runs_only_in_chromium_webnn_and_always_there() {
        assert!(runs_in(WEBNN_LABEL, BrowserKind::ChromiumWebnn, false));
        assert!(!runs_in(WEBNN_LABEL, BrowserKind::Chromium, true));
        assert!(!runs_in("browser-cpu", BrowserKind::ChromiumWebnn, false));
        assert!(runs_in("browser-cpu", BrowserKind::ChromiumWebnn, true));
        assert!(ENGINES.iter().any(|(_, l)| *l == WEBNN_LABEL));
    }
}
