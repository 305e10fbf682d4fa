//! Turning a raw outcome into a checked, summarised case record.

use super::record::{CaseRecord, CaseStatus};
use super::stats::Stats;
use ipfs_accelerate::bench::KernelCase;
use ipfs_accelerate::reference::max_errors;

/// Reference outputs, computed once per case and shared by every backend of a run.
pub struct References {
    outputs: Vec<Result<Vec<f32>, String>>,
}

impl References {
    pub fn compute(cases: &[KernelCase]) -> References {
        References { outputs: cases.iter().map(|c| c.kernel.reference_output(c.seed).map_err(|e| e.to_string())).collect() }
    }
}

/// Summarise `samples_ms` and compare `output` with the reference for case `index`.
pub fn record(case: &KernelCase, index: usize, refs: &References, samples_ms: Vec<f64>, output: &[f32]) -> CaseRecord {
    let mut rec = base(case);
    rec.stats = Stats::of(&samples_ms);
    rec.gflops = rec.stats.filter(|s| s.median > 0.0).map(|s| case.kernel.flops() / (s.median * 1e6));
    rec.samples_ms = samples_ms;
    match &refs.outputs[index] {
        Err(e) => fail(&mut rec, CaseStatus::Error, format!("reference failed: {e}")),
        Ok(want) if want.len() != output.len() => {
            fail(&mut rec, CaseStatus::Mismatch, format!("output has {} values, reference {}", output.len(), want.len()))
        }
        Ok(want) => {
            let (abs, rel) = max_errors(output, want);
            rec.max_abs_err = Some(abs);
            rec.max_rel_err = Some(rel);
            let tolerance = rec.tolerance;
            if abs > tolerance {
                fail(&mut rec, CaseStatus::Mismatch, format!("max abs error {abs:.3e} exceeds tolerance {tolerance:.1e}"));
            }
        }
    }
    rec
}

/// A case that produced no result.
pub fn failed(case: &KernelCase, status: CaseStatus, error: String) -> CaseRecord {
    let mut rec = base(case);
    fail(&mut rec, status, error);
    rec
}

fn fail(rec: &mut CaseRecord, status: CaseStatus, error: String) {
    rec.status = status;
    rec.error = Some(error);
}

fn base(case: &KernelCase) -> CaseRecord {
    CaseRecord {
        kernel: case.kernel.name().into(),
        shape: case.kernel.shape_label(),
        params_json: serde_json::to_string(case).unwrap_or_default(),
        warmup: case.warmup,
        samples_ms: Vec::new(),
        stats: None,
        gflops: None,
        max_abs_err: None,
        max_rel_err: None,
        tolerance: case.kernel.tolerance(),
        status: CaseStatus::Ok,
        error: None,
    }
}
