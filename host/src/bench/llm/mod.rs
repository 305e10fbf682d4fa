//! `accelerate bench --suite llm`: SmolLM2-135M-Instruct (GGUF Q4_1) text generation — prefill
//! tokens/s, time to first token, decode ms/token, memory — with ours natively (CPU, wgpu),
//! candle's quantized LLaMA, and ours in the browser (wasm CPU; WebGPU for correctness), every
//! run's greedy tokens checked against the independent reference; plus the precision study
//! (weights re-quantized to Q8_0/Q3/Q2 and a quantized KV cache: perplexity, logit error, memory).

mod browser;
mod cases;
mod native;
mod precision;

use super::options::BenchOptions;
use super::record::{EnvRecord, RunRecord};
use super::run::{epoch_seconds, finished_run};
use super::suite::{About, Suite};
use super::SuiteOptions;
use crate::browser::detect_all;
use crate::error::{HostError, Result};
use crate::server::RunnerServer;
use futures_util::future::{FutureExt, LocalBoxFuture};
use serde_json::Value;

/// Record labels of the suite, for `--backends`.
pub const BACKENDS: [&str; 6] = ["native-cpu", "native-candle-cpu", "native-wgpu", "browser-cpu", "browser-webgpu", "precision"];

/// The reference's ChatML prompt (37 tokens) and its greedy ids
/// (scripts/reference/smollm2_greedy.py → sdk-wasm/tests/data/smollm2_greedy.json).
pub struct Workload {
    pub prompt: String,
    pub want_ids: Vec<u32>,
    /// Tokens generated per sample (EOS ignored, so every sample decodes the same count).
    pub max_tokens: usize,
}

const REFERENCE: &str = include_str!("../../../../sdk-wasm/tests/data/smollm2_greedy.json");

/// Tokens generated on a software GPU adapter, where a token takes seconds.
const SOFTWARE_TOKENS: usize = 3;

impl Workload {
    fn reference() -> Result<Workload> {
        let r: Value = serde_json::from_str(REFERENCE).map_err(|e| HostError::Invalid(format!("smollm2 reference: {e}")))?;
        let case = &r["greedy"][1];
        let prompt = case["prompt"].as_str().ok_or_else(|| HostError::Invalid("smollm2 reference has no chat prompt".into()))?;
        let want_ids = case["steps"].as_array().into_iter().flatten().filter_map(|s| s["id"].as_u64()).map(|id| id as u32).collect();
        Ok(Workload { prompt: prompt.to_string(), want_ids, max_tokens: 32 })
    }
}

pub async fn run_suite(command: &str, opts: &SuiteOptions) -> Result<RunRecord> {
    let started_at = epoch_seconds();
    let work = Workload::reference()?;
    let wanted = |label: &str| opts.backends.iter().any(|b| b == label);
    let mut environments = Vec::new();
    for (backend, label) in native::BACKENDS.iter().filter(|(_, l)| wanted(l)) {
        environments.push(native::run(backend, label, &work, opts).await);
    }
    let engines: Vec<_> = browser::ENGINES.iter().filter(|(_, l)| wanted(l)).collect();
    if !engines.is_empty() {
        let server = RunnerServer::start(crate::paths::wasm_pkg_dir()).await?;
        for detection in detect_all().into_iter().filter(|d| opts.browsers.contains(&d.kind)) {
            for (prefer, label) in &engines {
                environments.push(match &detection.install {
                    Ok(install) => browser::run(install, &server.url(), prefer, label, &work, opts).await,
                    Err(reason) => {
                        let mut env = EnvRecord::new(label, Default::default(), Vec::new());
                        env.browser = Some(detection.kind.name().into());
                        env.unavailable_reason = Some(reason.clone());
                        env
                    }
                });
            }
        }
    }
    if wanted("precision") {
        environments.push(precision::run(&work).await);
    }
    Ok(finished_run("llm", command, started_at, environments))
}

/// The `llm` suite.
pub struct Llm;

impl Suite for Llm {
    fn about(&self) -> &About {
        &About { name: "llm", description: "SmolLM2 Q4_1 generation: prefill, first token, decode, memory; ours native/browser vs candle; Q3/Q2 weights and Q8_0/Q4_1/Q2 KV cache quality", default_report: "results/llm.html" }
    }

    fn backends(&self) -> Vec<&'static str> {
        BACKENDS.to_vec()
    }

    fn run<'a>(&'a self, command: &'a str, opts: SuiteOptions, _: &'a BenchOptions) -> LocalBoxFuture<'a, Result<RunRecord>> {
        async move { run_suite(command, &opts).await }.boxed_local()
    }
}
