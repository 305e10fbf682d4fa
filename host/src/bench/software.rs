//! Software GPU adapters (SwiftShader, lavapipe, llvmpipe) in the model suites: how a page's is
//! detected, and what `--quick` records instead of running a model on one. A model pass there
//! takes seconds to minutes (one MiniLM backend: ~3 min per model; SmolLM2's 37-token prompt:
//! 287 s), so the quick tour leaves them to the kernels suite's small cases.

use super::record::{CaseRecord, CaseStatus, EnvRecord};
use super::EngineBuild;
use crate::browser::BrowserSession;
use crate::doctor::BrowserProbe;
use ipfs_accelerate::AdapterSummary;

/// The page's WebGPU adapter (in the engine of `build`) when it is a CPU emulation. Unknown
/// counts as software; the run itself then says what failed.
pub async fn software_webgpu(session: &BrowserSession, build: EngineBuild) -> Option<AdapterSummary> {
    let info = session.call("deviceInfo", vec!["webgpu".into(), build.json()]).await.unwrap_or_default();
    if !info["software"].as_bool().unwrap_or(true) {
        return None;
    }
    let mut adapter: AdapterSummary = serde_json::from_value(info).unwrap_or_default();
    if adapter.name.is_empty() {
        // The engine leaves naming a page's adapter to `adapter.info`, which the probe reads.
        adapter.name = BrowserProbe::collect(session).await.map(|p| p.webgpu.identity()).unwrap_or_else(|_| "the WebGPU adapter".into());
    }
    Some(adapter)
}

/// The record of `label` on software `adapter` under `--quick`: one unavailable case of
/// `kernel` saying it was skipped, why, and that a run without `--quick` has it.
pub fn skipped_by_quick(label: &str, adapter: AdapterSummary, kernel: &str, cost: &str) -> EnvRecord {
    let why = format!("skipped by --quick: {} is a software adapter, where {cost}; a run without --quick has it", adapter.name);
    let mut env = EnvRecord::new(label, adapter, vec![CaseRecord::failed(kernel, "all", CaseStatus::Unavailable, &why)]);
    env.unavailable_reason = Some(why);
    env
}
