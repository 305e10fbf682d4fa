//! `accelerate bench --suite llm`: SmolLM2-135M-Instruct (GGUF Q4_1) text generation — prefill
//! tokens/s, time to first token, decode ms/token, memory — with ours natively (CPU, wgpu),
//! candle's quantized LLaMA, and ours in the browser (wasm CPU; WebGPU for correctness), every
//! run's greedy tokens checked against the independent reference of its arithmetic; plus the precision study
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
use ipfs_accelerate::AdapterSummary;
use serde_json::Value;

/// Record labels of the suite, for `--backends`.
pub const BACKENDS: [&str; 10] = [
    "native-cpu",
    "native-cpu-int8",
    "native-candle-cpu",
    "native-wgpu",
    "browser-cpu",
    "browser-cpu-relaxed",
    "browser-cpu-threads",
    "browser-cpu-threads-int8",
    "browser-webgpu",
    "precision",
];

/// The greedy ids a backend's are checked against, with the margin (top logit minus the
/// runner-up's) the reference had at each step.
pub struct GreedyReference {
    /// Says in records and reports which arithmetic the reference models.
    pub name: &'static str,
    pub ids: Vec<u32>,
    pub margins: Vec<f64>,
    /// A step whose reference margin is below this is a near tie: a backend whose arithmetic
    /// differs from the reference's by about this much in the logits may take the runner-up
    /// there, and its tokens after that continue a different text that cannot be compared.
    pub near_tie: f64,
}

/// What a backend's greedy ids say against a reference.
#[derive(Debug, Clone, PartialEq)]
pub struct GreedyCheck {
    /// Tokens compared: all of them, or those before a near tie where the backend went its own way.
    pub compared: usize,
    /// Of the compared, how many differ from the reference (missing ones count as different).
    pub wrong: usize,
    /// The first step that differs, and the reference's margin there.
    pub first_difference: Option<(usize, f64)>,
}

impl GreedyReference {
    /// Compare `ids` with the first `checked` reference ids: they must agree until the first
    /// difference; a difference at a near tie ends the comparison without counting as wrong
    /// (both tokens are what the model says, within the arithmetic's error), one at a clear
    /// step makes every differing token from there on count.
    pub fn check(&self, ids: &[u32], checked: usize) -> GreedyCheck {
        let want = &self.ids[..checked.min(self.ids.len())];
        let Some(step) = want.iter().zip(ids).position(|(a, b)| a != b).or((ids.len() < want.len()).then_some(ids.len())) else {
            return GreedyCheck { compared: want.len(), wrong: 0, first_difference: None };
        };
        let margin = self.margins.get(step).copied().unwrap_or(f64::INFINITY);
        if step < ids.len() && margin < self.near_tie {
            return GreedyCheck { compared: step, wrong: 0, first_difference: Some((step, margin)) };
        }
        let wrong = want.iter().zip(ids).filter(|(a, b)| a != b).count() + want.len().saturating_sub(ids.len());
        GreedyCheck { compared: want.len(), wrong, first_difference: Some((step, margin)) }
    }
}

/// The reference's ChatML prompt (37 tokens) and its greedy ids, twice: computed in float64
/// (scripts/reference/smollm2_greedy.py → sdk-wasm/tests/data/smollm2_greedy.json), which is
/// the arithmetic of our engine (f32 activations against the block-quantized weights), and with
/// each quantized matmul's input rounded to 8-bit blocks first, as ggml's CPU dot does and
/// candle's quantized kernels (its port of ggml's) do (scripts/reference/smollm2_q8_activations.py
/// → sdk-wasm/tests/data/smollm2_q8_activations.json). The chat prompt's first step is a near
/// tie (the float64 top two are 0.08 apart) that 8-bit activations resolve the other way, so
/// each backend is checked against the reference of its own arithmetic.
pub struct Workload {
    pub prompt: String,
    pub reference: GreedyReference,
    pub reference_q8: GreedyReference,
    /// Tokens generated per sample (EOS ignored, so every sample decodes the same count).
    pub max_tokens: usize,
}

const REFERENCE: &str = include_str!("../../../../sdk-wasm/tests/data/smollm2_greedy.json");
const REFERENCE_Q8: &str = include_str!("../../../../sdk-wasm/tests/data/smollm2_q8_activations.json");

/// Tokens generated on a software GPU adapter, where a token takes seconds.
const SOFTWARE_TOKENS: usize = 3;

/// What `--quick` records for `label` on a software GPU adapter.
fn skipped_on_software(label: &str, adapter: AdapterSummary) -> EnvRecord {
    super::software::skipped_by_quick(label, adapter, cases::KERNEL, "the 37-token prompt alone takes minutes")
}

fn numbers(v: &Value) -> impl Iterator<Item = f64> + '_ {
    v.as_array().into_iter().flatten().filter_map(Value::as_f64)
}

impl Workload {
    pub fn reference() -> Result<Workload> {
        let bad = |what: &str| HostError::Invalid(format!("smollm2 reference: {what}"));
        let r: Value = serde_json::from_str(REFERENCE).map_err(|e| bad(&e.to_string()))?;
        let case = &r["greedy"][1];
        let prompt = case["prompt"].as_str().ok_or_else(|| bad("no chat prompt"))?;
        let steps = case["steps"].as_array().ok_or_else(|| bad("no greedy steps"))?;
        let ids = steps.iter().filter_map(|s| s["id"].as_u64()).map(|id| id as u32).collect();
        let margins = steps.iter().map(|s| numbers(&s["top_logits"]).take(2).reduce(|a, b| a - b).unwrap_or(f64::INFINITY)).collect();
        // Our engine is within about 0.02 of the float64 logits.
        let reference = GreedyReference { name: "float64", ids, margins, near_tie: 0.05 };
        let q8: Value = serde_json::from_str(REFERENCE_Q8).map_err(|e| bad(&e.to_string()))?;
        let case_q8 = &q8["prompts"][1];
        if numbers(&case_q8["prompt_ids"]).ne(numbers(&case["prompt_ids"])) {
            return Err(bad("the 8-bit-activation reference ran another prompt"));
        }
        let reference_q8 = GreedyReference {
            name: "float64 with 8-bit activations (ggml's CPU dot)",
            ids: numbers(&case_q8["q8_free_ids"]).map(|id| id as u32).collect(),
            margins: numbers(&case_q8["q8_free_margins"]).collect(),
            // f32 arithmetic (candle's, ours) moves which activations round up: a few tenths
            // of a logit.
            near_tie: 0.5,
        };
        Ok(Workload { prompt: prompt.to_string(), reference, reference_q8, max_tokens: 32 })
    }

    /// The reference whose arithmetic `backend` (a TextGenerator backend name, or a browser
    /// engine's label) shares: 8-bit activations for candle and our `-int8` rows.
    pub fn reference_for(&self, backend: &str) -> &GreedyReference {
        if backend == "candle-cpu" || backend.ends_with("-int8") {
            &self.reference_q8
        } else {
            &self.reference
        }
    }
}

pub async fn run_suite(command: &str, opts: &SuiteOptions) -> Result<RunRecord> {
    let started_at = epoch_seconds();
    let work = Workload::reference()?;
    let wanted = |label: &str| opts.backends.iter().any(|b| b == label);
    let mut environments = Vec::new();
    for (backend, label) in native::BACKENDS.iter().filter(|(_, l)| wanted(l)) {
        environments.push(native::run(backend, label, &work, opts).await);
        super::progress::environments_finished(1);
    }
    let engines: Vec<_> = browser::ENGINES.iter().filter(|e| wanted(e.label)).collect();
    if !engines.is_empty() {
        let server = RunnerServer::start(crate::paths::wasm_pkg_dir()).await?;
        for detection in detect_all().into_iter().filter(|d| opts.browsers.contains(&d.kind)) {
            for engine in &engines {
                let label = engine.label;
                environments.push(match &detection.install {
                    Ok(install) => browser::run(install, &server.url(), engine, &work, opts).await,
                    Err(reason) => EnvRecord::browser_unavailable(label, detection.kind.name(), reason),
                });
                super::progress::environments_finished(1);
            }
        }
    }
    if wanted("precision") {
        environments.push(precision::run(&work).await);
        super::progress::environments_finished(1);
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

    fn quick_backends(&self) -> Vec<&'static str> {
        // Ours at its best in the browser against ours and candle natively; the one-thread
        // builds and the precision study are for `--full`.
        vec![
            "native-cpu",
            "native-cpu-int8",
            "native-candle-cpu",
            "native-wgpu",
            "browser-cpu-threads",
            "browser-cpu-threads-int8",
            "browser-webgpu",
        ]
    }

    fn run<'a>(&'a self, command: &'a str, opts: SuiteOptions, _: &'a BenchOptions) -> LocalBoxFuture<'a, Result<RunRecord>> {
        async move { run_suite(command, &opts).await }.boxed_local()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference() -> GreedyReference {
        GreedyReference { name: "test", ids: vec![1, 2, 3, 4], margins: vec![3.0, 0.01, 2.0, 2.0], near_tie: 0.05 }
    }

    #[test]
    fn matching_ids_compare_every_token() {
        assert_eq!(reference().check(&[1, 2, 3, 4, 9], 4), GreedyCheck { compared: 4, wrong: 0, first_difference: None });
    }

    #[test]
    fn a_difference_at_a_near_tie_ends_the_comparison_without_an_error() {
        assert_eq!(reference().check(&[1, 7, 8, 9], 4), GreedyCheck { compared: 1, wrong: 0, first_difference: Some((1, 0.01)) });
    }

    #[test]
    fn a_difference_at_a_clear_step_counts_every_differing_token() {
        assert_eq!(reference().check(&[7, 2, 8, 4], 4), GreedyCheck { compared: 4, wrong: 2, first_difference: Some((0, 3.0)) });
        assert_eq!(reference().check(&[1, 2], 4), GreedyCheck { compared: 4, wrong: 2, first_difference: Some((2, 2.0)) });
    }

    #[test]
    fn both_references_load_for_the_same_prompt() {
        let work = Workload::reference().unwrap_or_else(|e| panic!("{e}"));
        for r in [&work.reference, &work.reference_q8] {
            assert_eq!((r.ids.len(), r.margins.len()), (10, 10), "{}", r.name);
        }
        // The chat prompt's first step: a 0.08-logit tie in float64 that 8-bit activations
        // resolve to the runner-up (60, "L") — why candle is checked against its own arithmetic.
        assert_eq!((work.reference.ids[0], work.reference_q8.ids[0]), (504, 60));
        assert!(work.reference.margins[0] < 0.1);
        assert!(std::ptr::eq(work.reference_for("candle-cpu"), &work.reference_q8));
        assert!(std::ptr::eq(work.reference_for("ours-cpu"), &work.reference));
    }
}
