//! `accelerate bench --suite minilm`: sentence embeddings with MiniLM models on every backend
//! (ours native and in the browser, ONNX Runtime, candle, onnxruntime-web, transformers.js),
//! batch 1 and 8, short and 128-token inputs, cold and warm, with accuracy next to speed.

mod browser;
mod cases;
mod inputs;
mod native;

pub use inputs::{workloads, Workload, WORKLOAD_LABELS};

use super::options::BenchOptions;
use super::record::RunRecord;
use super::run::{epoch_seconds, finished_run};
use super::suite::{About, Suite};
use super::SuiteOptions;
use crate::browser::detect_all;
use crate::error::Result;
use crate::server::RunnerServer;
use futures_util::future::{FutureExt, LocalBoxFuture};

/// Native backends of the suite: (backend for NativeEmbedder, record label).
pub const NATIVE: [(&str, &str); 5] = [
    ("ours-cpu", "native-cpu"),
    ("ours-cpu-int8", "native-cpu-int8"),
    ("ours-wgpu", "native-wgpu"),
    ("ort-cpu", "native-ort-cpu"),
    ("candle-cpu", "native-candle-cpu"),
];

/// Every backend label the suite knows, for `--backends`.
pub fn backend_labels() -> Vec<&'static str> {
    NATIVE.iter().map(|(_, l)| *l).chain(browser::ENGINES.iter().map(|(_, l)| *l)).collect()
}

pub use super::SuiteOptions as Options;

pub async fn run_suite(command: &str, opts: &Options) -> Result<RunRecord> {
    let started_at = epoch_seconds();
    let wanted = |label: &str| opts.backends.iter().any(|b| b == label);
    let mut environments = Vec::new();
    for (backend, label) in NATIVE.iter().filter(|(_, l)| wanted(l)) {
        environments.push(native::run(backend, label, opts).await);
        super::progress::environments_finished(1);
    }
    let engines: Vec<_> = browser::ENGINES.iter().filter(|(_, l)| wanted(l)).collect();
    if !engines.is_empty() {
        let server = RunnerServer::start(crate::paths::wasm_pkg_dir()).await?;
        for detection in detect_all() {
            let selected = opts.browsers.contains(&detection.kind);
            for (engine, label) in engines.iter().filter(|(_, l)| browser::runs_in(l, detection.kind, selected)) {
                environments.push(match &detection.install {
                    Ok(install) => browser::run(install, &server.url(), engine, label, opts).await,
                    Err(reason) => super::record::EnvRecord::browser_unavailable(label, detection.kind.name(), reason),
                });
                super::progress::environments_finished(1);
            }
        }
    }
    Ok(finished_run("minilm", command, started_at, environments))
}

/// One backend of the suite (`label`, e.g. `native-cpu` or `browser-cpu-threads`) with `opts`'
/// models and workloads: natively, or in a session of `install` on the runner at `runner_url`.
pub async fn run_backend(
    label: &str,
    install: Option<&crate::browser::BrowserInstall>,
    runner_url: &str,
    opts: &Options,
) -> Result<super::record::EnvRecord> {
    if let Some((backend, _)) = NATIVE.iter().find(|(_, l)| *l == label) {
        return Ok(native::run(backend, label, opts).await);
    }
    let (engine, _) = browser::ENGINES
        .iter()
        .find(|(_, l)| *l == label)
        .ok_or_else(|| crate::HostError::Invalid(format!("minilm has no backend {label:?}; known: {}", backend_labels().join(", "))))?;
    let install = install.ok_or_else(|| crate::HostError::Invalid(format!("{label} runs in a browser; none was given")))?;
    Ok(browser::run(install, runner_url, engine, label, opts).await)
}

/// The `minilm` suite.
pub struct MiniLm;

impl Suite for MiniLm {
    fn about(&self) -> &About {
        &About { name: "minilm", description: "sentence embeddings", default_report: "results/minilm.html" }
    }

    fn backends(&self) -> Vec<&'static str> {
        backend_labels()
    }

    fn quick_backends(&self) -> Vec<&'static str> {
        // Ours at its best (every core; f32 and int8) against every other engine at its best.
        let one_thread = ["browser-cpu", "browser-cpu-relaxed", "browser-cpu-int8", "browser-ort-web", "browser-transformers-js"];
        backend_labels().into_iter().filter(|b| !one_thread.contains(b)).collect()
    }

    fn planned_environments(&self, opts: &SuiteOptions) -> usize {
        // WebNN runs once, in the one browser that has it, whatever `--browsers` names.
        let others: Vec<String> = opts.backends.iter().filter(|b| *b != browser::WEBNN_LABEL).cloned().collect();
        super::progress::planned_environments(&others, opts.browsers.len()) + usize::from(others.len() < opts.backends.len())
    }

    fn run<'a>(&'a self, command: &'a str, opts: SuiteOptions, _: &'a BenchOptions) -> LocalBoxFuture<'a, Result<RunRecord>> {
        async move { run_suite(command, &opts).await }.boxed_local()
    }
}
