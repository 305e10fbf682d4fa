//! Native backends: the SDK's CPU kernels and its wgpu kernels (Vulkan/Metal/DX12/GL).

use super::check::{failed, record, References};
use super::record::{CaseRecord, CaseStatus, EnvRecord};
use super::{describe, progress};
use ipfs_accelerate::bench::{run_case, KernelCase};
use ipfs_accelerate::{AdapterSummary, Device};

pub async fn run_native_cpu(cases: &[KernelCase], refs: &References) -> EnvRecord {
    run_on(&Device::Cpu, "native-cpu", cases, refs).await
}

pub async fn run_native_wgpu(cases: &[KernelCase], refs: &References) -> EnvRecord {
    match Device::gpu().await {
        Ok(device) => run_on(&device, "native-wgpu", cases, refs).await,
        Err(e) => unavailable("native-wgpu", cases, e.to_string()),
    }
}

async fn run_on(device: &Device, backend: &str, cases: &[KernelCase], refs: &References) -> EnvRecord {
    let summary = device.summary();
    progress(format!("{backend}: {}{}", summary.name, if summary.software { " [software adapter]" } else { "" }));
    let mut records = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        if let Some(skipped) = cpu_only_elsewhere(case, matches!(device, Device::Cpu)) {
            records.push(skipped);
            continue;
        }
        progress(format!("{backend}: {}", describe(case)));
        records.push(match run_case(device, case).await {
            Ok(outcome) => record(case, i, refs, outcome.samples_ms, &outcome.output),
            Err(e) => failed(case, CaseStatus::Error, e.to_string()),
        });
    }
    EnvRecord::new(backend, summary, records)
}

/// A CPU-only case (the FMA peak) on a GPU backend: recorded as unavailable, not run.
pub(crate) fn cpu_only_elsewhere(case: &KernelCase, on_cpu: bool) -> Option<CaseRecord> {
    (!on_cpu && !case.kernel.runs_on_gpu())
        .then(|| failed(case, CaseStatus::Unavailable, "measures the CPU's peak: cpu backends only".into()))
}

/// Every case marked unavailable, with the reason, so the gap shows in the report.
pub(crate) fn unavailable(backend: &str, cases: &[KernelCase], reason: String) -> EnvRecord {
    progress(format!("{backend}: unavailable: {reason}"));
    let cases = cases.iter().map(|c| failed(c, CaseStatus::Unavailable, reason.clone())).collect();
    EnvRecord { unavailable_reason: Some(reason), ..EnvRecord::new(backend, AdapterSummary::default(), cases) }
}
