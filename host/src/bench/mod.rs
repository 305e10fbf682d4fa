//! Benchmark runs: every case on every backend, outputs checked against the reference,
//! summaries and raw samples collected into a [`record::RunRecord`] for the store.

pub mod audio;
mod browser;
pub mod cache;
mod candle_kernels;
pub mod check;
pub mod kernels;
pub mod llm;
pub mod matrix;
pub mod minilm;
mod native;
pub mod options;
pub mod pool;
pub mod progress;
pub mod record;
pub mod registry;
mod run;
pub mod shard;
mod software;
pub mod stats;
pub mod suite;
pub mod vision;

pub use browser::{run_browser_backends, run_in_browser, EngineBuild, BEST, ONE_THREAD_RELAXED, ONE_THREAD_SIMD};
pub use candle_kernels::run_native_candle_cpu;
pub use native::{run_native_cpu, run_native_wgpu};
pub use options::{BenchOptions, DEFAULT_BROWSER};
pub use registry::registry;
pub(crate) use run::epoch_seconds;
pub use run::run_suite;
pub use suite::Suite;

use crate::browser::BrowserKind;
use ipfs_accelerate::bench::KernelCase;

/// The common options resolved for one suite ([`Suite::options`]): samples, and
/// which backends (record labels) in which browsers.
pub struct SuiteOptions {
    pub warmup: u32,
    pub samples: u32,
    pub backends: Vec<String>,
    pub browsers: Vec<BrowserKind>,
    /// A subset of the suite's models and workloads (a benchmark matrix cell); all when empty.
    pub only: Only,
    /// `--quick`: on software GPU adapters run only what finishes in seconds.
    pub quick: bool,
}

/// Which models and workloads a suite run covers: the named ones, or all when a list is empty.
#[derive(Debug, Clone, Default)]
pub struct Only {
    pub models: Vec<String>,
    pub workloads: Vec<String>,
}

impl Only {
    pub fn model(&self, name: &str) -> bool {
        self.models.is_empty() || self.models.iter().any(|m| m == name)
    }

    pub fn workload(&self, label: &str) -> bool {
        self.workloads.is_empty() || self.workloads.iter().any(|w| w == label)
    }
}

/// Which backends a run covers.
#[derive(Debug, Clone)]
pub struct BackendSelection {
    pub native_cpu: bool,
    pub native_wgpu: bool,
    /// The kernels on candle's CPU ops (the kernels suites only).
    pub native_candle: bool,
    pub browsers: Vec<BrowserKind>,
    /// Labels of `browser::BROWSER_BACKENDS` to run.
    pub browser_backends: Vec<&'static str>,
}

impl Default for BackendSelection {
    fn default() -> Self {
        BackendSelection {
            native_cpu: true,
            native_wgpu: true,
            native_candle: true,
            browsers: vec![BrowserKind::Chromium, BrowserKind::Firefox],
            browser_backends: browser::BROWSER_BACKENDS.iter().map(|b| b.label).collect(),
        }
    }
}

/// Milliseconds since `t`.
pub(crate) fn ms_since(t: std::time::Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// A step of the run, on stderr so stdout stays the result table ([`progress::step`]).
pub(crate) fn progress(line: impl AsRef<str>) {
    progress::step(line);
}

pub(crate) fn describe(case: &KernelCase) -> String {
    format!("{} {}", case.kernel.name(), case.kernel.shape_label())
}
