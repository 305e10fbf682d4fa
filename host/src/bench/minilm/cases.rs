//! Case records of the MiniLM suite: one per (model, workload) on a backend, plus `load` and
//! `first call` (cold). `max_abs_err` holds the worst 1 − cosine against the model's reference.

use super::inputs::Workload;
use crate::backends::models::ModelSpec;
use crate::bench::record::{CaseRecord, CaseStatus};
use crate::bench::stats::Stats;

/// f32 against its own reference must agree to cosine ≥ 0.9999; int8 (the model's own weights,
/// or a backend label ending in `-int8`, which quantizes at load) is compared with the f32
/// model, where ≥ 0.99 is what 8-bit weights (and activations) can give.
pub fn tolerance(model: &ModelSpec, backend: &str) -> f64 {
    if model.int8 || backend.ends_with("-int8") {
        1e-2
    } else {
        1e-4
    }
}

pub fn timed(model: &ModelSpec, label: &str, tokens: &str, batch: usize, warmup: u32, samples_ms: Vec<f64>) -> CaseRecord {
    let mut rec = base(model, label, tokens, batch, warmup);
    rec.stats = Stats::of(&samples_ms);
    rec.samples_ms = samples_ms;
    rec
}

/// A timed workload; its params also carry `seq`, the padded length the batch ran at, which
/// `accelerate recommend` fits its cost model to.
pub fn for_workload(model: &ModelSpec, w: &Workload, warmup: u32, samples_ms: Vec<f64>) -> CaseRecord {
    let mut rec = timed(model, &w.label, &w.tokens, w.batch, warmup, samples_ms);
    let seq = w.ids.iter().map(Vec::len).max().unwrap_or(0);
    rec.params_json = params(model, &w.label, &w.tokens, w.batch, Some(seq));
    rec
}

pub fn not_run(model: &ModelSpec, label: &str, status: CaseStatus, reason: &str) -> CaseRecord {
    let mut rec = base(model, label, "", 0, 0);
    rec.status = status;
    rec.error = Some(reason.to_string());
    rec
}

/// Attach the accuracy check to every case of `model` in `records`, as `backend` ran it.
pub fn apply_accuracy(records: &mut [CaseRecord], model: &ModelSpec, backend: &str, worst: Result<f64, String>) {
    for rec in records.iter_mut().filter(|r| r.kernel == model.name && r.status == CaseStatus::Ok) {
        rec.tolerance = tolerance(model, backend);
        match &worst {
            Ok(err) => {
                rec.max_abs_err = Some(*err);
                if *err > rec.tolerance {
                    rec.status = CaseStatus::Mismatch;
                    rec.error = Some(format!("1 − cosine {err:.2e} to the reference exceeds {:.0e}", rec.tolerance));
                }
            }
            Err(e) => {
                rec.status = CaseStatus::Error;
                rec.error = Some(format!("accuracy check failed: {e}"));
            }
        }
    }
}

fn base(model: &ModelSpec, label: &str, tokens: &str, batch: usize, warmup: u32) -> CaseRecord {
    CaseRecord {
        kernel: model.name.into(),
        shape: label.into(),
        params_json: params(model, label, tokens, batch, None),
        warmup,
        samples_ms: Vec::new(),
        stats: None,
        gflops: None,
        max_abs_err: None,
        max_rel_err: None,
        tolerance: tolerance(model, ""),
        status: CaseStatus::Ok,
        error: None,
    }
}

fn params(model: &ModelSpec, label: &str, tokens: &str, batch: usize, seq: Option<usize>) -> String {
    let mut p = serde_json::json!({ "model": model.name, "workload": label, "batch": batch, "tokens": tokens });
    if let Some(seq) = seq {
        p["seq"] = seq.into();
    }
    p.to_string()
}
