//! Case records of the llm suite from a backend's generations: prefill, time to first token,
//! decode per token and memory, each carrying the greedy-token check against the reference.

use super::Workload;
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

pub fn records(runs: &[TextRun], warmup: u32, work: &Workload, checked: usize, memory: &Memory) -> Vec<CaseRecord> {
    let prompt_tokens = runs.first().map_or(0, |r| r.prompt_tokens);
    let tokens = runs.first().map_or(0, |r| r.ids.len());
    let prefill: Vec<f64> = runs.iter().map(|r| r.prefill_ms).collect();
    let ttft: Vec<f64> = runs.iter().map(|r| r.first_token_ms).collect();
    let per_token: Vec<f64> = runs.iter().map(|r| r.decode_ms / r.ids.len().saturating_sub(1).max(1) as f64).collect();
    let prefill_tps = prompt_tokens as f64 / (median(&prefill) / 1e3);
    let decode_tps = 1e3 / median(&per_token);
    // Every sample's first `checked` greedy ids against the reference; each case carries it.
    let want = &work.want_ids[..checked.min(work.want_ids.len())];
    let wrong = runs.iter().map(|r| want.iter().zip(&r.ids).filter(|(a, b)| a != b).count() + want.len().saturating_sub(r.ids.len())).max();
    let greedy_ids = runs.first().map(|r| r.ids.clone()).unwrap_or_default();
    let checked_params = |mut p: serde_json::Value| {
        p["checked_tokens"] = want.len().into();
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
        rec.max_abs_err = wrong.map(|w| w as f64);
        match wrong {
            Some(0) => {}
            Some(w) => {
                rec.status = CaseStatus::Mismatch;
                rec.error = Some(format!("{w} of the first {} greedy tokens differ from the reference", want.len()));
            }
            None => {
                rec.status = CaseStatus::Error;
                rec.error = Some("no generation completed".into());
            }
        }
    }
    out
}
