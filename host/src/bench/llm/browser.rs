//! The llm suite in a real browser: ours through the npm package's `generate` (wasm CPU, and
//! WebGPU — a software adapter here, so a few tokens for correctness), in a fresh session.

use super::cases::{records, Memory, KERNEL};
use super::{skipped_on_software, Workload, SOFTWARE_TOKENS};
use crate::backends::text_generation::TextRun;
use crate::bench::progress;
use crate::bench::record::{CaseRecord, CaseStatus, EnvRecord};
use crate::bench::software::software_webgpu;
use crate::bench::{EngineBuild, SuiteOptions, BEST, ONE_THREAD_RELAXED, ONE_THREAD_SIMD};
use crate::browser::{BrowserInstall, BrowserSession};
use ipfs_accelerate::AdapterSummary;
use serde_json::{json, Value};

/// How the page runs one engine: the device it prefers, and the wasm build.
pub struct Engine {
    pub prefer: &'static str,
    pub build: EngineBuild,
    pub label: &'static str,
    /// `generate`'s `activations` option.
    pub activations: &'static str,
}

/// `browser-cpu` is the one-thread plain-SIMD build; `-relaxed` adds relaxed SIMD;
/// `browser-cpu-threads` uses every core; `-int8` adds 8-bit activations (integer dots).
pub const ENGINES: [Engine; 5] = [
    Engine { prefer: "cpu", build: ONE_THREAD_SIMD, label: "browser-cpu", activations: "f32" },
    Engine { prefer: "cpu", build: ONE_THREAD_RELAXED, label: "browser-cpu-relaxed", activations: "f32" },
    Engine { prefer: "cpu", build: BEST, label: "browser-cpu-threads", activations: "f32" },
    Engine { prefer: "cpu", build: BEST, label: "browser-cpu-threads-int8", activations: "int8" },
    Engine { prefer: "webgpu", build: BEST, label: "browser-webgpu", activations: "f32" },
];

const MODEL_URL: &str = "/models/smollm2-135m-instruct/";

fn text_run(r: &Value) -> TextRun {
    let f = |k: &str| r[k].as_f64().unwrap_or(f64::NAN);
    TextRun {
        prompt_tokens: r["promptTokens"].as_u64().unwrap_or(0) as usize,
        ids: r["tokens"].as_array().into_iter().flatten().filter_map(Value::as_u64).map(|id| id as u32).collect(),
        text: r["text"].as_str().unwrap_or_default().to_string(),
        prefill_ms: f("prefillMs"),
        first_token_ms: f("timeToFirstTokenMs"),
        decode_ms: f("decodeMs"),
        kv_cache_bytes: r["kvCacheBytes"].as_u64(),
    }
}

pub async fn run(install: &BrowserInstall, runner_url: &str, engine: &Engine, work: &Workload, opts: &SuiteOptions) -> EnvRecord {
    let browser = install.kind.name();
    let session = match BrowserSession::launch(install, runner_url).await {
        Ok(s) => s,
        Err(e) => return EnvRecord { browser: Some(browser.into()), ..failed(engine.label, e.to_string()) },
    };
    // On a software adapter a token takes seconds: a few tokens, once, for correctness.
    let software = if engine.prefer == "webgpu" { software_webgpu(&session, engine.build).await } else { None };
    let mut env = match software {
        Some(adapter) if opts.quick => skipped_on_software(engine.label, adapter),
        _ => generate(&session, engine, software.is_some(), work, opts).await,
    };
    env.browser = Some(browser.into());
    env.ran_in(&session);
    if let Err(e) = session.close().await {
        progress(format!("{browser}: closing failed: {e}"));
    }
    env
}

/// The timed generations of `engine` in `session`: a few tokens once on a software adapter.
async fn generate(session: &BrowserSession, engine: &Engine, software: bool, work: &Workload, opts: &SuiteOptions) -> EnvRecord {
    let Engine { prefer, build, label, activations } = *engine;
    let (warmup, samples, tokens) = if software { (0, 1, SOFTWARE_TOKENS) } else { (opts.warmup.min(2), opts.samples, work.max_tokens) };
    progress(format!("{label} ({}): {samples} × {tokens} tokens", session.kind.name()));
    let mut spec = json!({ "prefer": [prefer], "maxTokens": tokens, "warmup": warmup, "samples": samples, "activations": activations });
    spec["engine"] = build.json();
    let reply = session.call("benchGenerate", vec![MODEL_URL.into(), work.prompt.clone().into(), spec]).await;
    match reply {
        Err(e) => failed(label, e.to_string()),
        Ok(reply) => {
            let runs: Vec<TextRun> = reply["runs"].as_array().into_iter().flatten().map(text_run).collect();
            let memory = Memory {
                weight_bytes: reply["weightBytes"].as_f64().map(|b| b as u64),
                kv_cache_bytes: runs.first().and_then(|r| r.kv_cache_bytes),
                peak: reply["wasmMemoryBytes"].as_f64().map(|b| ("wasm memory", b as u64)),
            };
            let reference = work.reference_for(label);
            let adapter: AdapterSummary = serde_json::from_value(reply["adapter"].clone()).unwrap_or_default();
            let mut env = EnvRecord::new(label, adapter, records(&runs, warmup, reference, tokens.min(reference.ids.len()), &memory));
            if reply["device"].as_str() != Some(prefer) {
                env.unavailable_reason = Some(format!("the page ran on {} instead of {prefer}", reply["device"]));
            }
            env
        }
    }
}

/// A backend that could not run: one failed case saying why.
fn failed(label: &str, reason: String) -> EnvRecord {
    EnvRecord::new(label, AdapterSummary::default(), vec![CaseRecord::failed(KERNEL, "load", CaseStatus::Error, &reason)])
}
