//! `accelerate bench --suite cache`: what content-addressed caching and sharing buy, in a real
//! browser on MiniLM-L6 — load from the network (cache cleared) vs from IndexedDB, weight
//! memory of two models sharing an encoder vs one (and vs two unshared), and repeated
//! embedding with the embedding cache off and on (all repeats, half repeats).

use super::minilm::workloads;
use super::options::BenchOptions;
use super::progress;
use super::record::{CaseRecord, CaseStatus, EnvRecord, RunRecord};
use super::run::{epoch_seconds, finished_run};
use super::stats::Stats;
use super::suite::{About, Suite};
use super::SuiteOptions;
use crate::backends::MODELS;
use crate::browser::{detect_all, BrowserInstall, BrowserSession};
use crate::error::Result;
use crate::server::RunnerServer;
use futures_util::future::{FutureExt, LocalBoxFuture};
use ipfs_accelerate::AdapterSummary;
use serde_json::{json, Value};

const MODEL: &str = "minilm-l6";
const URL: &str = "/models/all-minilm-l6-v2/";
const REFERENCE: &str = include_str!("../../../sdk-wasm/tests/data/minilm_embeddings.json");
/// Where each backend's models are loaded: (record label, device preferred in the page).
pub const BACKENDS: [(&str, &str); 2] = [("browser-cpu", "cpu"), ("browser-webgpu", "webgpu")];

pub use super::SuiteOptions as Options;

pub async fn run_suite(command: &str, opts: &Options) -> Result<RunRecord> {
    let started_at = epoch_seconds();
    let server = RunnerServer::start(crate::paths::wasm_pkg_dir()).await?;
    let mut environments = Vec::new();
    for detection in detect_all().into_iter().filter(|d| opts.browsers.contains(&d.kind)) {
        for (label, device) in BACKENDS.iter().filter(|(l, _)| opts.backends.iter().any(|b| b == l)) {
            environments.push(match &detection.install {
                Ok(install) => run_backend(install, &server.url(), label, device, opts).await,
                Err(reason) => unavailable(label, detection.kind.name(), reason),
            });
            super::progress::environments_finished(1);
        }
    }
    Ok(finished_run("cache", command, started_at, environments))
}

fn unavailable(label: &str, browser: &str, reason: &str) -> EnvRecord {
    let mut env = EnvRecord::new(label, AdapterSummary::default(), Vec::new());
    env.browser = Some(browser.into());
    env.unavailable_reason = Some(reason.into());
    env
}

fn case(shape: &str, params: Value, warmup: u32, samples_ms: Vec<f64>) -> CaseRecord {
    CaseRecord {
        kernel: MODEL.into(),
        shape: shape.into(),
        params_json: params.to_string(),
        warmup,
        stats: Stats::of(&samples_ms),
        samples_ms,
        gflops: None,
        max_abs_err: None,
        max_rel_err: None,
        tolerance: 1e-4,
        status: CaseStatus::Ok,
        error: None,
    }
}

fn failed(shape: &str, error: String) -> CaseRecord {
    CaseRecord { status: CaseStatus::Error, error: Some(error), ..case(shape, json!({}), 0, Vec::new()) }
}

/// Worst 1 − cosine of `reply`'s first embedding against the reference sentence.
fn error_of(reply: &Value, want: &[f64]) -> f64 {
    let got: Vec<f64> = reply["embeddings"][0].as_array().map(|a| a.iter().filter_map(Value::as_f64).collect()).unwrap_or_default();
    1.0 - got.iter().zip(want).map(|(a, b)| a * b).sum::<f64>()
}

/// Mark a case wrong when the load did not come from where it should, or embeds wrongly.
fn check(mut rec: CaseRecord, worst_err: f64, wrong_origin: Option<String>) -> CaseRecord {
    rec.max_abs_err = Some(worst_err);
    if let Some(why) = wrong_origin {
        rec.status = CaseStatus::Mismatch;
        rec.error = Some(why);
    } else if worst_err > rec.tolerance {
        rec.status = CaseStatus::Mismatch;
        rec.error = Some(format!("1 − cosine {worst_err:.2e} to the reference"));
    }
    rec
}

async fn run_backend(install: &BrowserInstall, runner_url: &str, label: &str, device: &str, opts: &Options) -> EnvRecord {
    let browser = install.kind.name();
    let session = match BrowserSession::launch(install, runner_url).await {
        Ok(s) => s,
        Err(e) => return unavailable(label, browser, &e.to_string()),
    };
    let reference: Value = serde_json::from_str(REFERENCE).unwrap_or_default();
    let sentences = reference["sentences"].as_array().cloned().unwrap_or_default();
    let text = sentences.first().map(|s| s["text"].clone()).unwrap_or_default();
    let want: Vec<f64> =
        sentences.first().and_then(|s| s["embedding"].as_array()).map(|a| a.iter().filter_map(Value::as_f64).collect()).unwrap_or_default();
    // Eight texts of exactly 128 tokens (the MiniLM suite's b8×128), so "half new" is half the work.
    let texts: Vec<Value> = MODELS
        .iter()
        .find(|m| m.dir == "all-minilm-l6-v2")
        .and_then(|m| workloads(m).ok())
        .and_then(|w| w.into_iter().find(|w| w.label == "b8×128"))
        .map(|w| w.texts.into_iter().map(Value::from).collect())
        .unwrap_or_default();
    let prefer = json!([device]);
    let mut records = Vec::new();
    let mut reply_adapter = Value::Null;

    progress(format!("{label} ({browser}): network vs IndexedDB loads"));
    let (mut cold, mut warm, mut worst, mut wrong) = (Vec::new(), Vec::new(), 0f64, None);
    // The last round's load reports: where the time went (store read, transfer, hashing, build).
    let mut phases = [Value::Null, Value::Null];
    for round in 0..opts.warmup + opts.samples {
        let loads = async {
            session.call("clearCache", vec![]).await?;
            let network = session.call("cacheLoad", vec![URL.into(), json!({ "prefer": prefer, "texts": [text] })]).await?;
            let cached = session.call("cacheLoad", vec![URL.into(), json!({ "prefer": prefer, "texts": [text] })]).await?;
            crate::error::Result::Ok((network, cached))
        };
        let (network, cached) = match loads.await {
            Ok(pair) => pair,
            Err(e) => {
                records.push(failed("load", e.to_string()));
                break;
            }
        };
        for (reply, want_origin) in [(&network, "network"), (&cached, "cache")] {
            let got = reply["report"]["files"]["model.safetensors"].as_str().unwrap_or("none");
            if got != want_origin {
                wrong = Some(format!("weights came from {got}, expected {want_origin}: {}", reply["error"]));
            }
            worst = worst.max(error_of(reply, &want));
        }
        reply_adapter = network["adapter"].clone();
        phases = [network["report"].clone(), cached["report"].clone()];
        if round >= opts.warmup {
            cold.push(network["loadMs"].as_f64().unwrap_or(f64::NAN));
            warm.push(cached["loadMs"].as_f64().unwrap_or(f64::NAN));
        }
    }
    let params = |report: &Value| {
        json!({
            "weights_bytes": 90_868_376u64,
            "last_timings": report["timings"],
            "last_build_ms": report["buildMs"],
            "last_finite_scan_ms": report["finiteScanMs"],
        })
    };
    records.push(check(case("load from network (cache cleared)", params(&phases[0]), opts.warmup, cold), worst, wrong.clone()));
    records.push(check(case("load from IndexedDB", params(&phases[1]), opts.warmup, warm), worst, wrong));

    progress(format!("{label} ({browser}): shared-encoder memory"));
    match session.call("sharedMemory", vec![URL.into(), json!({ "prefer": prefer })]).await {
        Ok(m) => {
            let one = m["one"]["totalBytes"].as_f64().unwrap_or(f64::NAN);
            let two = m["two"]["totalBytes"].as_f64().unwrap_or(f64::NAN);
            let unshared = m["unsharedBytes"].as_f64().unwrap_or(f64::NAN);
            let shape = format!("memory: 2 models sharing = {:.3}× one ({:.1} MB); unshared {:.3}×", two / one, two / 1e6, unshared / one);
            let mut rec = case(&shape, json!({ "one_bytes": one, "two_shared_bytes": two, "two_unshared_bytes": unshared }), 0, Vec::new());
            if two / one > 1.1 {
                rec.status = CaseStatus::Mismatch;
                rec.error = Some(format!("sharing should keep two models within 1.1× one, got {:.3}×", two / one));
            }
            records.push(rec);
        }
        Err(e) => records.push(failed("memory", e.to_string())),
    }

    progress(format!("{label} ({browser}): embedding cache"));
    let rounds = opts.warmup + opts.samples + 1;
    // Unknown adapter (the loads failed): treat a GPU device as possibly emulated.
    let software = reply_adapter["software"].as_bool().unwrap_or(device != "cpu");
    for (shape, entries, fresh) in [
        ("embed 8×128 tokens, embedding cache off", 0, 0),
        ("embed 8×128 tokens, all repeated, cache on", 1024, 0),
        ("embed 8×128 tokens, 4 repeated + 4 new, cache on", 1024, 4),
    ] {
        if software {
            // Minutes per round on a CPU-emulated GPU, and nothing learned about caching.
            let mut rec = case(shape, json!({}), 0, Vec::new());
            rec.status = CaseStatus::Unavailable;
            rec.error = Some("software adapter: 8×128 tokens take tens of seconds per round".into());
            records.push(rec);
            continue;
        }
        if texts.len() != 8 {
            records.push(failed(shape, "could not build the 8×128-token inputs (model fixture missing?)".into()));
            continue;
        }
        let spec = json!({ "prefer": prefer, "entries": entries, "rounds": rounds, "fresh": fresh });
        match session.call("embeddingCacheRounds", vec![URL.into(), Value::Array(texts.clone()), spec]).await {
            Ok(r) => {
                // Round 0 fills the cache; then the warm-up rounds; then the samples.
                let ms: Vec<f64> =
                    r["ms"].as_array().into_iter().flatten().filter_map(Value::as_f64).skip(1 + opts.warmup as usize).collect();
                records.push(case(
                    shape,
                    json!({ "entries": entries, "fresh_per_round": fresh, "stats": r["stats"] }),
                    opts.warmup + 1,
                    ms,
                ));
            }
            Err(e) => records.push(failed(shape, e.to_string())),
        }
    }

    let mut env = EnvRecord::new(label, serde_json::from_value(reply_adapter).unwrap_or_default(), records);
    env.browser = Some(browser.into());
    env.ran_in(&session);
    if let Err(e) = session.close().await {
        progress(format!("{browser}: closing failed: {e}"));
    }
    env
}

/// The `cache` suite.
pub struct Cache;

impl Suite for Cache {
    fn about(&self) -> &About {
        &About {
            name: "cache",
            description: "IndexedDB vs network loads, shared-encoder memory, embedding cache",
            default_report: "results/cache.html",
        }
    }

    fn backends(&self) -> Vec<&'static str> {
        BACKENDS.iter().map(|(label, _)| *label).collect()
    }

    fn quick_backends(&self) -> Vec<&'static str> {
        // What caching saves is the same on every device; the CPU shows it in seconds.
        vec!["browser-cpu"]
    }

    fn run<'a>(&'a self, command: &'a str, opts: SuiteOptions, _: &'a BenchOptions) -> LocalBoxFuture<'a, Result<RunRecord>> {
        async move { run_suite(command, &opts).await }.boxed_local()
    }
}
