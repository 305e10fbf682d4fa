//! `accelerate bench --suite shard`: MiniLM-L6 on eight 128-token texts split over 1..K
//! browser sessions (1 = the whole model in one browser, the same code path), latency of each,
//! what each stage holds (it loads only its layers' weights) and the throughput of a pipelined
//! stream of requests (K stages vs one); the model under a per-stage weight budget it does not
//! fit as a whole; then stage browsers killed during requests — recovery time and whether
//! every request completed with the unsharded output.

use super::options::{BenchOptions, DEFAULT_BROWSER};
use super::progress;
use super::record::{CaseRecord, CaseStatus, EnvRecord, RunRecord};
use super::run::{epoch_seconds, finished_run};
use super::stats::Stats;
use super::suite::{About, Suite};
use super::SuiteOptions;
use crate::backends::MODELS;
use crate::browser::{detect_all, kill_processes};
use crate::error::{HostError, Result};
use crate::server::RunnerServer;
use crate::shard::{balanced, within_budget, PartSizes, ShardSpec, ShardedModel, StageReport};
use futures_util::future::{FutureExt, LocalBoxFuture};
use ipfs_accelerate::AdapterSummary;
use serde_json::json;
use std::time::Duration;

const MODEL_URL: &str = "/models/all-minilm-l6-v2/";
const MODEL_DIR: &str = "all-minilm-l6-v2";
const LAYERS: usize = 6;

/// The budget case's per-stage weight budget unless one is given: below MiniLM-L6's 86 MiB,
/// above its 45 MiB of embeddings plus a 6.8 MiB layer.
pub const DEFAULT_STAGE_BUDGET: u64 = 56 << 20;

pub struct ShardOptions {
    pub suite: SuiteOptions,
    pub shards: usize,
    pub faults: usize,
    pub stage_budget: u64,
}

fn mib(bytes: f64) -> f64 {
    bytes / f64::from(1 << 20)
}

/// Each stage's layers and memory, for a case's params.
fn stage_memory(plan: &[std::ops::Range<usize>], reports: &[Option<StageReport>]) -> serde_json::Value {
    plan.iter()
        .zip(reports)
        .map(|(layers, r)| {
            let r = r.clone().unwrap_or_default();
            json!({ "layers": format!("{layers:?}"), "part_mib": mib(r.part_bytes), "held_mib": mib(r.held_bytes), "wasm_mib": mib(r.wasm_memory_bytes) })
        })
        .collect()
}

/// "a/b/c" of one figure per stage, in MiB.
fn per_stage(reports: &[Option<StageReport>], figure: fn(&StageReport) -> f64) -> String {
    reports.iter().map(|r| r.as_ref().map_or("?".into(), |r| format!("{:.1}", mib(figure(r))))).collect::<Vec<_>>().join("/")
}

fn case(shape: &str, samples: Vec<f64>, params: serde_json::Value, error: Option<String>) -> CaseRecord {
    CaseRecord {
        kernel: "minilm-l6".into(),
        shape: shape.into(),
        params_json: params.to_string(),
        warmup: 1,
        stats: Stats::of(&samples),
        samples_ms: samples,
        gflops: None,
        max_abs_err: None,
        max_rel_err: None,
        tolerance: 1e-4,
        status: if error.is_some() { CaseStatus::Error } else { CaseStatus::Ok },
        error,
    }
}

/// Worst 1 − cosine between two sets of unit vectors.
fn worst_error(a: &[Vec<f32>], b: &[Vec<f32>]) -> f64 {
    a.iter().zip(b).map(|(x, y)| 1.0 - x.iter().zip(y).map(|(p, q)| (p * q) as f64).sum::<f64>()).fold(0.0, f64::max)
}

pub async fn run_suite(command: &str, opts: &ShardOptions) -> Result<RunRecord> {
    let started_at = epoch_seconds();
    let kind = opts.suite.browsers.first().copied().unwrap_or(DEFAULT_BROWSER);
    let install = detect_all()
        .into_iter()
        .find(|d| d.kind == kind)
        .and_then(|d| d.install.ok())
        .ok_or_else(|| HostError::Invalid(format!("shard: {} is not installed", kind.name())))?;
    let texts: Vec<String> = MODELS
        .iter()
        .find(|m| m.dir == "all-minilm-l6-v2")
        .and_then(|m| super::minilm::workloads(m).ok())
        .and_then(|w| w.into_iter().find(|w| w.label == "b8×128"))
        .map(|w| w.texts)
        .ok_or_else(|| HostError::Invalid("shard: could not build the 8×128-token inputs".into()))?;
    let server = RunnerServer::start(crate::paths::wasm_pkg_dir()).await?;
    let sizes = PartSizes::of_dir(&crate::paths::model_cache().join(MODEL_DIR))?;
    let spec = ShardSpec::new(MODEL_URL);
    let mut records = Vec::new();
    let mut unsharded: Option<(f64, Vec<Vec<f32>>)> = None;
    let mut one_stage_rate = None;
    let mut whole_wasm = None;
    for k in 1..=opts.shards.clamp(1, LAYERS) {
        let plan = balanced(&[1.0; LAYERS], k);
        progress(format!("shard: {k} stage(s) {plan:?}"));
        let mut model = ShardedModel::start(&server, &install, &spec, plan.clone()).await?;
        let reports = model.stage_reports();
        if k == 1 {
            whole_wasm = reports.first().cloned().flatten().map(|r| r.wasm_memory_bytes);
        }
        let mut latencies = Vec::new();
        let mut error = None;
        let mut worst = 0.0f64;
        for i in 0..=opts.suite.samples.max(1) {
            match model.embed(&texts).await {
                Ok(run) if i > 0 => {
                    latencies.push(run.latency_ms);
                    if let Some((_, base)) = &unsharded {
                        worst = worst.max(worst_error(&run.embeddings, base));
                    }
                    if unsharded.is_none() && i == opts.suite.samples.max(1) {
                        unsharded = Some((0.0, run.embeddings));
                    }
                }
                Ok(_) => {}
                Err(e) => error = Some(e.to_string()),
            }
        }
        let stream = stream_case(&mut model, &texts, k, &mut one_stage_rate, unsharded.as_ref().map(|u| &u.1)).await;
        model.shutdown().await;
        let median = Stats::of(&latencies).map_or(f64::NAN, |s| s.median);
        if k == 1 {
            if let Some(u) = unsharded.as_mut() {
                u.0 = median;
            }
        }
        let base = unsharded.as_ref().map_or(f64::NAN, |u| u.0);
        let shape = format!(
            "8×128 tokens over {k} stage(s): {:.2}× unsharded; MiB of weights held per stage {}",
            median / base,
            per_stage(&reports, |r| r.held_bytes)
        );
        let params = json!({ "stages": k, "plan": format!("{plan:?}"), "stage_memory": stage_memory(&plan, &reports) });
        let mut rec = case(&shape, latencies, params, error);
        rec.max_abs_err = Some(worst);
        if worst > rec.tolerance {
            rec.status = CaseStatus::Mismatch;
        }
        records.push(rec);
        records.push(stream);
    }
    let want = unsharded.map(|u| u.1);
    records.push(budget_case(&server, &install, &texts, &sizes, opts, whole_wasm, want.as_ref()).await);
    records.push(faults(&server, &install, &texts, opts.faults, want).await);
    let adapter = AdapterSummary {
        name: "stages in headless browser sessions (wasm SIMD CPU)".into(),
        backend: "cpu".into(),
        ..AdapterSummary::default()
    };
    let mut env = EnvRecord::new("browser-cpu", adapter, records);
    env.browser = Some(kind.name().into());
    Ok(finished_run("shard", command, started_at, vec![env]))
}

/// The model under a per-stage weight budget smaller than the whole: the fewest stages that
/// fit it, each loading only its part (and refusing more than the budget); latency, the
/// stages' memory beside one whole-model stage's, and the output against the unsharded one.
async fn budget_case(
    server: &RunnerServer,
    install: &crate::browser::BrowserInstall,
    texts: &[String],
    sizes: &PartSizes,
    opts: &ShardOptions,
    whole_wasm: Option<f64>,
    want: Option<&Vec<Vec<f32>>>,
) -> CaseRecord {
    let budget = opts.stage_budget;
    let name = format!("stages within a {:.1} MiB weight budget (whole model {:.1} MiB)", mib(budget as f64), mib(sizes.total() as f64));
    let fail = |e: HostError| case(&name, Vec::new(), json!({ "budget_bytes": budget }), Some(e.to_string()));
    let plan = match within_budget(sizes, budget) {
        Ok(plan) => plan,
        Err(e) => return fail(e),
    };
    progress(format!("shard: {name}: {plan:?}"));
    let spec = ShardSpec { stage_budget: Some(budget), ..ShardSpec::new(MODEL_URL) };
    let mut model = match ShardedModel::start(server, install, &spec, plan.clone()).await {
        Ok(m) => m,
        Err(e) => return fail(e),
    };
    let reports = model.stage_reports();
    let (mut latencies, mut error, mut worst) = (Vec::new(), None, 0.0f64);
    for i in 0..=opts.suite.samples.max(1) {
        match model.embed(texts).await {
            Ok(run) if i > 0 => {
                latencies.push(run.latency_ms);
                worst = worst.max(want.map_or(0.0, |w| worst_error(&run.embeddings, w)));
            }
            Ok(_) => {}
            Err(e) => error = Some(e.to_string()),
        }
    }
    model.shutdown().await;
    let shape = format!(
        "8×128 tokens, {name}: {} stages {plan:?}, MiB of weights held {}, wasm memory {} MiB (one whole-model stage: {})",
        plan.len(),
        per_stage(&reports, |r| r.held_bytes),
        per_stage(&reports, |r| r.wasm_memory_bytes),
        whole_wasm.map_or("not measured".into(), |w| format!("{:.1} MiB", mib(w)))
    );
    let params = json!({
        "stages": plan.len(), "plan": format!("{plan:?}"), "budget_bytes": budget, "whole_model_bytes": sizes.total(),
        "whole_stage_wasm_mib": whole_wasm.map(mib), "stage_memory": stage_memory(&plan, &reports),
    });
    let mut rec = case(&shape, latencies, params, error);
    rec.max_abs_err = Some(worst);
    if worst > rec.tolerance {
        rec.status = CaseStatus::Mismatch;
    }
    rec
}

/// Requests in one pipelined stream (each the eight 128-token texts).
const STREAM_REQUESTS: usize = 8;

/// Throughput of a stream of requests submitted at once, the stages working on different
/// requests at the same time; `one_stage_rate` is set by the first (k = 1) call and is the
/// ratio's base. Samples are each request's latency from submission.
async fn stream_case(
    model: &mut ShardedModel,
    texts: &[String],
    k: usize,
    one_stage_rate: &mut Option<f64>,
    want: Option<&Vec<Vec<f32>>>,
) -> CaseRecord {
    let requests = vec![texts.to_vec(); STREAM_REQUESTS];
    let started = std::time::Instant::now();
    let runs = match model.embed_stream(&requests).await {
        Ok(runs) => runs,
        Err(e) => return case(&format!("stream over {k} stage(s)"), Vec::new(), json!({ "stages": k }), Some(e.to_string())),
    };
    let wall_s = started.elapsed().as_secs_f64();
    let failed: Vec<String> = runs.iter().filter_map(|r| r.as_ref().err().map(|e| e.to_string())).collect();
    let done: Vec<&crate::shard::ShardRun> = runs.iter().flatten().collect();
    let rate = done.len() as f64 / wall_s;
    let base = *one_stage_rate.get_or_insert(rate);
    let shape =
        format!("stream of {STREAM_REQUESTS} requests over {k} stage(s), pipelined: {rate:.2} req/s = {:.2}× one stage", rate / base);
    let params = json!({ "stages": k, "requests": STREAM_REQUESTS, "completed": done.len(), "requests_per_s": rate, "wall_s": wall_s });
    let mut rec = case(&shape, done.iter().map(|r| r.latency_ms).collect(), params, failed.first().cloned());
    rec.max_abs_err = want.map(|w| done.iter().map(|r| worst_error(&r.embeddings, w)).fold(0.0, f64::max));
    if rec.max_abs_err.is_some_and(|e| e > rec.tolerance) {
        rec.status = CaseStatus::Mismatch;
    }
    rec
}

/// Two stages; before each request one stage's browser is set to be killed after a delay
/// spread over the request; every request must still complete with the unsharded output.
async fn faults(
    server: &RunnerServer,
    install: &crate::browser::BrowserInstall,
    texts: &[String],
    count: usize,
    want: Option<Vec<Vec<f32>>>,
) -> CaseRecord {
    progress(format!("shard: {count} stage kills during requests"));
    let mut model = match ShardedModel::start(server, install, &ShardSpec::new(MODEL_URL), balanced(&[1.0; LAYERS], 2)).await {
        Ok(m) => m,
        Err(e) => return case("recovery: stage killed mid-request", Vec::new(), json!({}), Some(e.to_string())),
    };
    let (mut recoveries, mut completed, mut failed, mut worst) = (Vec::new(), 0, Vec::new(), 0.0f64);
    for i in 0..count {
        let pids = model.stage_pids(i % 2);
        let delay = Duration::from_millis(50 + (i as u64 * 97) % 900);
        let killer = tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            kill_processes(&pids);
        });
        match model.embed(texts).await {
            Ok(run) => {
                completed += 1;
                recoveries.extend(run.recoveries_ms);
                if let Some(w) = &want {
                    worst = worst.max(worst_error(&run.embeddings, w));
                }
            }
            Err(e) => failed.push(e.to_string()),
        }
        let _ = killer.await;
    }
    model.shutdown().await;
    let shape = format!("recovery: {count} stage kills, {completed}/{count} requests completed");
    let params = json!({ "kills": count, "completed": completed, "failed": failed.len() });
    let mut rec = case(&shape, recoveries, params, failed.first().cloned());
    rec.max_abs_err = Some(worst);
    rec
}

/// The `shard` suite.
pub struct Shard;

impl Suite for Shard {
    fn about(&self) -> &About {
        &About {
            name: "shard",
            description: "MiniLM-L6 split over 1..N browser sessions: latency, per-stage memory, a stage budget, recovery from stage kills",
            default_report: "results/shard.html",
        }
    }

    fn backends(&self) -> Vec<&'static str> {
        vec!["browser-cpu"]
    }

    fn run<'a>(&'a self, command: &'a str, opts: SuiteOptions, bench: &'a BenchOptions) -> LocalBoxFuture<'a, Result<RunRecord>> {
        async move {
            let stage_budget = match bench.stage_budget.as_deref() {
                Some(b) => crate::byte_size::parse_byte_size(b)?,
                None => DEFAULT_STAGE_BUDGET,
            };
            run_suite(command, &ShardOptions { suite: opts, shards: bench.shards, faults: bench.faults, stage_budget }).await
        }
        .boxed_local()
    }
}
