//! `accelerate bench --suite pool`: requests per second through a pool of 1..K real browser
//! sessions (same requests, same model), then a run with injected browser kills — how long a
//! killed slot takes to serve again, and how many requests completed.

use super::options::{BenchOptions, DEFAULT_BROWSER};
use super::progress;
use super::record::{CaseRecord, CaseStatus, EnvRecord, RunRecord};
use super::run::{epoch_seconds, finished_run};
use super::stats::Stats;
use super::suite::{About, Suite};
use super::SuiteOptions;
use crate::browser::BrowserKind;
use crate::error::Result;
use crate::pool::{drive, BrowserPool, DriveReport, EmbedRequest, Faults, PoolConfig};
use crate::server::RunnerServer;
use futures_util::future::{FutureExt, LocalBoxFuture};
use ipfs_accelerate::AdapterSummary;
use serde_json::json;

const MODEL_URL: &str = "/models/all-minilm-l6-v2/";
const TEXT: &str = "The quick brown fox jumps over the lazy dog.";
/// Requests per throughput measurement for each `--samples`.
const REQUESTS_PER_SAMPLE: usize = 8;
/// Requests completed between two injected kills.
const KILL_EVERY: usize = 4;

pub struct PoolOptions {
    pub suite: SuiteOptions,
    /// Throughput is measured for 1..=sessions.
    pub sessions: usize,
    /// Browser kills injected in the fault run.
    pub faults: usize,
}

/// A case holding a drive's request latencies; shape says what was measured.
pub fn drive_case(shape: &str, report: &DriveReport, extra: serde_json::Value) -> CaseRecord {
    let latencies: Vec<f64> = report.completed.iter().map(|o| o.latency_ms).collect();
    let submitted = report.completed.len() + report.failed.len();
    let mut params = json!({
        "submitted": submitted, "completed": report.completed.len(), "failed": report.failed.len(),
        "wall_ms": report.wall_ms, "requests_per_s": report.requests_per_second(), "kills": report.kills,
        "recoveries_ms": report.recoveries_ms,
    });
    if let (Some(p), Some(e)) = (params.as_object_mut(), extra.as_object()) {
        p.extend(e.clone());
    }
    CaseRecord {
        kernel: "minilm-l6".into(),
        shape: shape.into(),
        params_json: params.to_string(),
        warmup: 0,
        stats: Stats::of(&latencies),
        samples_ms: latencies,
        gflops: None,
        max_abs_err: None,
        max_rel_err: None,
        tolerance: 0.0,
        status: if report.failed.is_empty() { CaseStatus::Ok } else { CaseStatus::Error },
        error: report.failed.first().map(|e| format!("{} of {submitted} requests failed; first: {e}", report.failed.len())),
    }
}

fn browsers_for(opts: &SuiteOptions, count: usize) -> Vec<BrowserKind> {
    let kinds = if opts.browsers.is_empty() { vec![DEFAULT_BROWSER] } else { opts.browsers.clone() };
    (0..count).map(|i| kinds[i % kinds.len()]).collect()
}

async fn measured(server: &RunnerServer, browsers: Vec<BrowserKind>, requests: usize, faults: Option<Faults>) -> Result<DriveReport> {
    let slots = browsers.len();
    let pool = BrowserPool::start(PoolConfig { browsers, ..PoolConfig::default() }, &server.url()).await?;
    let request = EmbedRequest::new(MODEL_URL, vec![TEXT.into()]);
    // Every page loads the model before timing starts.
    drive(&pool, &request, 2 * slots, slots, None).await;
    let report = drive(&pool, &request, requests, 2 * slots, faults).await;
    pool.shutdown().await;
    Ok(report)
}

pub async fn run_suite(command: &str, opts: &PoolOptions) -> Result<RunRecord> {
    let started_at = epoch_seconds();
    let server = RunnerServer::start(crate::paths::wasm_pkg_dir()).await?;
    let requests = opts.suite.samples.max(1) as usize * REQUESTS_PER_SAMPLE;
    let mut records = Vec::new();
    let mut single = None;
    for k in 1..=opts.sessions.max(1) {
        progress(format!("pool: {requests} requests over {k} session(s)"));
        match measured(&server, browsers_for(&opts.suite, k), requests, None).await {
            Ok(report) => {
                let rate = report.requests_per_second();
                let base = *single.get_or_insert(rate);
                let shape = format!("throughput, {k} session(s): {rate:.1} req/s = {:.2}× one", rate / base);
                records.push(drive_case(&shape, &report, json!({ "sessions": k })));
            }
            Err(e) => records.push(failed(&format!("throughput, {k} session(s)"), e.to_string())),
        }
    }
    let fault_slots = opts.sessions.max(2);
    let fault_requests = opts.faults * KILL_EVERY + 2 * KILL_EVERY;
    progress(format!("pool: {fault_requests} requests over {fault_slots} sessions, a browser killed every {KILL_EVERY}"));
    let faults = Faults { every: KILL_EVERY, kills: opts.faults };
    match measured(&server, browsers_for(&opts.suite, fault_slots), fault_requests, Some(faults)).await {
        Ok(report) => {
            let submitted = report.completed.len() + report.failed.len();
            let rate = 100.0 * report.completed.len() as f64 / submitted.max(1) as f64;
            let shape =
                format!("under {} browser kills: {}/{submitted} requests completed ({rate:.1} %)", report.kills, report.completed.len());
            records.push(drive_case(&shape, &report, json!({ "sessions": fault_slots })));
            let mut recovery = drive_case("recovery: kill → slot serving again", &report, json!({}));
            recovery.stats = Stats::of(&report.recoveries_ms);
            recovery.samples_ms = report.recoveries_ms.clone();
            records.push(recovery);
        }
        Err(e) => records.push(failed("fault injection", e.to_string())),
    }
    let adapter = AdapterSummary {
        name: "pool of headless browser sessions (wasm SIMD CPU)".into(),
        backend: "cpu".into(),
        ..AdapterSummary::default()
    };
    let mut env = EnvRecord::new("browser-cpu", adapter, records);
    env.browser = Some(browsers_for(&opts.suite, 1)[0].name().into());
    Ok(finished_run("pool", command, started_at, vec![env]))
}

/// The record of an `accelerate pool` run (suite "pool-run").
pub fn pool_run_record(command: &str, started_at: f64, env: EnvRecord) -> RunRecord {
    finished_run("pool-run", command, started_at, vec![env])
}

fn failed(shape: &str, error: String) -> CaseRecord {
    let mut rec = drive_case(shape, &DriveReport::default(), json!({}));
    rec.status = CaseStatus::Error;
    rec.error = Some(error);
    rec
}

/// The `pool` suite.
pub struct Pool;

impl Suite for Pool {
    fn about(&self) -> &About {
        &About {
            name: "pool",
            description: "throughput over 1..N browser sessions, recovery from browser kills",
            default_report: "results/pool.html",
        }
    }

    fn backends(&self) -> Vec<&'static str> {
        vec!["browser-cpu"]
    }

    fn run<'a>(&'a self, command: &'a str, opts: SuiteOptions, bench: &'a BenchOptions) -> LocalBoxFuture<'a, Result<RunRecord>> {
        async move { run_suite(command, &PoolOptions { suite: opts, sessions: bench.sessions, faults: bench.faults }).await }.boxed_local()
    }
}
