//! The llm suite on native backends: ours (CPU, wgpu) and candle's quantized LLaMA.

use super::cases::{records, Memory, KERNEL};
use super::{skipped_on_software, Workload, SOFTWARE_TOKENS};
use crate::backends::text_generation::{TextGenerator, TextRun};
use crate::bench::progress;
use crate::bench::record::{CaseRecord, CaseStatus, EnvRecord};
use crate::bench::SuiteOptions;
use ipfs_accelerate::models::generation::{Generation, Prompt};

/// (backend for TextGenerator, record label).
/// `-int8`: 8-bit activations, integer dot products (the technique on its own row).
pub const BACKENDS: [(&str, &str); 4] =
    [("ours-cpu", "native-cpu"), ("ours-cpu-int8", "native-cpu-int8"), ("candle-cpu", "native-candle-cpu"), ("ours-wgpu", "native-wgpu")];

/// Resident memory of this process (VmRSS), in bytes.
pub fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: u64 = status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

pub async fn run(backend: &str, label: &str, work: &Workload, opts: &SuiteOptions) -> EnvRecord {
    let before = resident_bytes();
    let mut generator = match TextGenerator::load(backend).await {
        Ok(g) => g,
        Err(e) => {
            let mut env =
                EnvRecord::new(label, Default::default(), vec![CaseRecord::failed(KERNEL, "load", CaseStatus::Error, &e.to_string())]);
            env.unavailable_reason = Some(e.to_string());
            return env;
        }
    };
    let software = generator.adapter.software;
    if software && opts.quick {
        return skipped_on_software(label, generator.adapter.clone());
    }
    let (warmup, samples, tokens) = if software { (0, 1, SOFTWARE_TOKENS) } else { (opts.warmup.min(2), opts.samples, work.max_tokens) };
    progress(format!("{label}: {} × {tokens} tokens on {}", samples, generator.adapter.name));
    let opts = Generation { max_tokens: tokens, stop_at_eos: false, ..Generation::default() };
    let mut runs: Vec<TextRun> = Vec::new();
    let mut error = None;
    for i in 0..warmup + samples {
        match generator.generate(&Prompt::raw(work.prompt.as_str()), &opts, |_| true).await {
            Ok(r) if i >= warmup => runs.push(r),
            Ok(_) => {}
            Err(e) => {
                error = Some(e.to_string());
                break;
            }
        }
    }
    let grown = match (before, resident_bytes()) {
        (Some(a), Some(b)) => Some(("resident growth", b.saturating_sub(a))),
        _ => None,
    };
    let memory = Memory { weight_bytes: generator.weight_bytes, kv_cache_bytes: runs.first().and_then(|r| r.kv_cache_bytes), peak: grown };
    let reference = work.reference_for(backend);
    let mut cases = records(&runs, warmup, reference, tokens.min(reference.ids.len()), &memory);
    if let Some(e) = error {
        cases.push(CaseRecord::failed(KERNEL, "generate", CaseStatus::Error, &e));
    }
    let mut env = EnvRecord::new(label, generator.adapter.clone(), cases);
    if backend == "candle-cpu" {
        // Its Q4_1/Q8_0 matmuls round activations to 8 bits (ggml's dot), so it is checked against
        // the reference with that rounding: the name says so in every report.
        env.adapter.name.push_str(" (quantized_llama, GGUF Q4_1, 8-bit activations)");
    }
    env
}
