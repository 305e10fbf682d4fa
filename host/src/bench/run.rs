//! One whole benchmark run over the selected backends.

use super::check::References;
use super::record::RunRecord;
use super::{progress, run_browser_backends, run_native_candle_cpu, run_native_cpu, run_native_wgpu, BackendSelection};
use crate::env_info;
use crate::error::Result;
use crate::server::RunnerServer;
use ipfs_accelerate::bench::KernelCase;
use std::time::{SystemTime, UNIX_EPOCH};

pub(crate) fn epoch_seconds() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

/// A run id that sorts by start time (epoch ms) and differs between concurrent processes and
/// between runs one process starts in the same millisecond (matrix cells side by side).
fn new_run_id(started: f64) -> String {
    static SEQUENCE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = SEQUENCE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{:013}-{:05}-{n}", (started * 1e3) as u64, std::process::id() % 100_000)
}

/// Run `cases` on every selected backend. Browser backends need the wasm package; if it is
/// missing they are recorded as unavailable, not silently skipped.
pub async fn run_suite(suite: &str, command: &str, cases: &[KernelCase], selection: &BackendSelection) -> Result<RunRecord> {
    let started_at = epoch_seconds();
    for case in cases {
        case.kernel.validate()?;
    }
    progress(format!("computing reference outputs for {} cases", cases.len()));
    let refs = References::compute(cases);
    let mut environments = Vec::new();
    if selection.native_cpu {
        environments.push(run_native_cpu(cases, &refs).await);
        progress::environments_finished(1);
    }
    if selection.native_wgpu {
        environments.push(run_native_wgpu(cases, &refs).await);
        progress::environments_finished(1);
    }
    if selection.native_candle {
        environments.push(run_native_candle_cpu(cases, &refs).await);
        progress::environments_finished(1);
    }
    if !selection.browsers.is_empty() && !selection.browser_backends.is_empty() {
        match RunnerServer::start(crate::paths::wasm_pkg_dir()).await {
            Ok(server) => environments.extend(run_browser_backends(&server.url(), selection, cases, &refs).await),
            Err(e) => {
                for &kind in &selection.browsers {
                    environments.extend(super::browser::unavailable_browser(kind, selection, cases, &e.to_string()));
                    progress::environments_finished(selection.browser_backends.len());
                }
            }
        }
    }
    Ok(finished_run(suite, command, started_at, environments))
}

/// The record of a run that started at `started_at` and ends now.
pub(crate) fn finished_run(suite: &str, command: &str, started_at: f64, environments: Vec<super::record::EnvRecord>) -> RunRecord {
    RunRecord {
        run_id: new_run_id(started_at),
        suite: suite.into(),
        command: command.into(),
        started_at,
        finished_at: epoch_seconds(),
        host: env_info::host(),
        build: env_info::build(),
        environments,
    }
}
