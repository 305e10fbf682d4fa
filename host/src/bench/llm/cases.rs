//! Case records of the llm suite from a backend's generations: prefill, time to first token,
//! decode per token and memory, each carrying the greedy-token check against the reference.

use super::{GreedyCheck, GreedyReference};
use crate::backends::text_generation::TextRun;
use crate::bench::record::{CaseRecord, CaseStatus};
use crate::bench::stats::Stats;
use serde_json::json;

pub const KERNEL: &str = "smollm2-135m-q4_1";

/// Memory a backend reports beside its timings.
pub struct Memory {
    /// None where the backend does not say (candle).
    pub weight_bytes: Option<u64>,
    pub kv_cache_bytes: Option<u64>,
    /// What the process or page grew to: (label, bytes).
    pub peak: Option<(&'static str, u64)>,
}

fn median(values: &[f64]) -> f64 {
    Stats::of(values).map_or(f64::NAN, |s| s.median)
}

/// The cases of one backend's `runs`, each carrying the check of every run's first `checked`
/// greedy ids against `reference`.
pub fn records(runs: &[TextRun], warmup: u32, reference: &GreedyReference, checked: usize, memory: &Memory) -> Vec<CaseRecord> {
    let prompt_tokens = runs.first().map_or(0, |r| r.prompt_tokens);
    let tokens = runs.first().map_or(0, |r| r.ids.len());
    let prefill: Vec<f64> = runs.iter().map(|r| r.prefill_ms).collect();
    let ttft: Vec<f64> = runs.iter().map(|r| r.first_token_ms).collect();
    let per_token: Vec<f64> = runs.iter().map(|r| r.decode_ms / r.ids.len().saturating_sub(1).max(1) as f64).collect();
    let prefill_tps = prompt_tokens as f64 / (median(&prefill) / 1e3);
    let decode_tps = 1e3 / median(&per_token);
    // Every sample's first `checked` greedy ids against the reference; each case carries the
    // worst sample's check.
    let check = runs.iter().map(|r| reference.check(&r.ids, checked)).max_by_key(|c| (c.wrong, std::cmp::Reverse(c.compared)));
    let greedy_ids = runs.first().map(|r| r.ids.clone()).unwrap_or_default();
    let checked_params = |mut p: serde_json::Value| {
        p["reference"] = reference.name.into();
        p["checked_tokens"] = check.as_ref().map_or(0, |c| c.compared).into();
        if let Some(GreedyCheck { wrong: 0, first_difference: Some((step, margin)), .. }) = &check {
            p["near_tie"] = json!({ "step": step, "reference_margin": margin });
        }
        p["greedy_ids"] = greedy_ids.clone().into();
        p
    };
    let mut out = vec![
        CaseRecord::timed(
            KERNEL,
            &format!("prefill {prompt_tokens}-token prompt"),
            checked_params(json!({ "prompt_tokens": prompt_tokens, "tokens_per_s": prefill_tps })),
            warmup,
            prefill,
            0.0,
        ),
        CaseRecord::timed(KERNEL, "time to first token", checked_params(json!({ "prompt_tokens": prompt_tokens })), warmup, ttft, 0.0),
        CaseRecord::timed(
            KERNEL,
            "decode, ms per token",
            checked_params(json!({ "tokens": tokens, "tokens_per_s": decode_tps })),
            warmup,
            per_token,
            0.0,
        ),
    ];
    let mb = |b: u64| b as f64 / 1e6;
    let mut parts: Vec<String> = memory.weight_bytes.map(|w| format!("weights {:.1} MB", mb(w))).into_iter().collect();
    if let Some(kv) = memory.kv_cache_bytes {
        parts.push(format!("KV cache {:.2} MB", mb(kv)));
    }
    if let Some((what, bytes)) = memory.peak {
        parts.push(format!("{what} {:.0} MB", mb(bytes)));
    }
    let label = format!("memory: {}", parts.join(", "));
    out.push(CaseRecord::timed(
        KERNEL,
        &label,
        checked_params(json!({
            "weight_bytes": memory.weight_bytes, "kv_cache_bytes": memory.kv_cache_bytes, "peak": memory.peak.map(|p| json!({ p.0: p.1 })),
        })),
        0,
        Vec::new(),
        0.0,
    ));
    for rec in &mut out {
        rec.max_abs_err = check.as_ref().map(|c| c.wrong as f64);
        match &check {
            Some(GreedyCheck { wrong: 0, .. }) => {}
            Some(c) => {
                rec.status = CaseStatus::Mismatch;
                let at = c
                    .first_difference
                    .map(|(step, margin)| format!(", first at step {step} where the reference's top two are {margin:.2} apart"))
                    .unwrap_or_default();
                rec.error =
                    Some(format!("{} of the first {} greedy tokens differ from the {} reference{at}", c.wrong, c.compared, reference.name));
            }
            None => {
                rec.status = CaseStatus::Error;
                rec.error = Some("no generation completed".into());
            }
        }
    }
    out
}
