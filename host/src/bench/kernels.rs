//! The `kernels` suite: shapes small enough for software adapters (SwiftShader, lavapipe)
//! to finish in seconds, large enough that timings mean something on real hardware.

use super::options::BenchOptions;
use super::record::RunRecord;
use super::suite::{About, Suite};
use super::{BackendSelection, SuiteOptions};
use crate::browser::BrowserKind;
use crate::error::Result;
use futures_util::future::{FutureExt, LocalBoxFuture};
use ipfs_accelerate::bench::{Kernel, KernelCase};

/// The suites `kernels` (full shapes) and `kernels-smoke` (tiny shapes).
pub struct Kernels {
    smoke: bool,
    about: About,
}

impl Kernels {
    pub const FULL: Kernels = Kernels {
        smoke: false,
        about: About {
            name: "kernels",
            description: "matmul, softmax, layernorm, gelu at full shapes",
            default_report: "results/report.html",
        },
    };
    pub const SMOKE: Kernels = Kernels {
        smoke: true,
        about: About {
            name: "kernels-smoke",
            description: "the same kernels at tiny shapes",
            default_report: "results/kernels-smoke.html",
        },
    };
}

const BACKENDS: [&str; 7] =
    ["native-cpu", "native-wgpu", "native-candle-cpu", "browser-cpu", "browser-cpu-relaxed", "browser-cpu-threads", "browser-webgpu"];

impl Suite for Kernels {
    fn about(&self) -> &About {
        &self.about
    }

    fn backends(&self) -> Vec<&'static str> {
        BACKENDS.to_vec()
    }

    fn default_browsers(&self) -> Vec<BrowserKind> {
        BackendSelection::default().browsers
    }

    fn run<'a>(&'a self, command: &'a str, opts: SuiteOptions, _: &'a BenchOptions) -> LocalBoxFuture<'a, Result<RunRecord>> {
        let cases = if self.smoke { smoke(opts.warmup, opts.samples) } else { suite(opts.warmup, opts.samples) };
        async move { super::run_suite(self.name(), command, &cases, &selection(opts)).await }.boxed_local()
    }
}

fn selection(opts: SuiteOptions) -> BackendSelection {
    let has = |b: &str| opts.backends.iter().any(|x| x == b);
    BackendSelection {
        native_cpu: has("native-cpu"),
        native_wgpu: has("native-wgpu"),
        native_candle: has("native-candle-cpu"),
        browser_backends: super::browser::BROWSER_BACKENDS.iter().map(|b| b.label).filter(|b| has(b)).collect(),
        browsers: opts.browsers,
    }
}

pub fn suite(warmup: u32, samples: u32) -> Vec<KernelCase> {
    let kernels = [
        Kernel::Matmul { batch: 1, m: 64, k: 64, n: 64 },
        Kernel::Matmul { batch: 1, m: 128, k: 128, n: 128 },
        Kernel::Matmul { batch: 1, m: 256, k: 256, n: 256 },
        Kernel::Matmul { batch: 4, m: 128, k: 64, n: 128 },
        Kernel::Softmax { rows: 128, cols: 512 },
        Kernel::Layernorm { rows: 128, cols: 384 },
        Kernel::Gelu { len: 128 * 1536 },
        // Last, so the cases above keep their seeds: the size issue 13 compares across threads.
        Kernel::Matmul { batch: 1, m: 512, k: 512, n: 512 },
        // The peak the matmul GFLOP/s are read against (one thread; ×threads for threaded rows).
        Kernel::FmaPeak { iterations: 20_000_000 },
    ];
    kernels.into_iter().enumerate().map(|(i, kernel)| KernelCase { kernel, warmup, samples, seed: 1000 + i as u64 }).collect()
}

/// A quick subset for tests and smoke runs.
pub fn smoke(warmup: u32, samples: u32) -> Vec<KernelCase> {
    let kernels = [
        Kernel::Matmul { batch: 2, m: 33, k: 40, n: 70 },
        Kernel::Softmax { rows: 16, cols: 300 },
        Kernel::Layernorm { rows: 8, cols: 384 },
    ];
    kernels.into_iter().enumerate().map(|(i, kernel)| KernelCase { kernel, warmup, samples, seed: 7 + i as u64 }).collect()
}
