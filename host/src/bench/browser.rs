//! Browser backends: the SDK's wasm build in real browsers, on the wasm CPU path and WebGPU.

use super::check::{failed, record, References};
use super::native::{cpu_only_elsewhere, unavailable};
use super::record::{CaseStatus, EnvRecord};
use super::{describe, progress, BackendSelection};
use crate::browser::{detect_all, BrowserKind, BrowserSession};
use crate::doctor::BrowserProbe;
use crate::error::{HostError, Result};
use base64::Engine;
use ipfs_accelerate::bench::KernelCase;
use ipfs_accelerate::device::is_software_adapter;
use ipfs_accelerate::AdapterSummary;
use serde_json::Value;

/// Which wasm build a page's engine loads: its thread cap (None: every core, threaded where
/// the page is cross-origin isolated) and whether relaxed SIMD may be used.
#[derive(Clone, Copy)]
pub struct EngineBuild {
    pub threads: Option<u32>,
    pub relaxed_simd: bool,
}

impl EngineBuild {
    /// The engine options of the JS API (`{threads, relaxedSimd}`).
    pub fn json(&self) -> Value {
        serde_json::json!({ "threads": self.threads, "relaxedSimd": self.relaxed_simd })
    }
}

/// The one-thread plain-SIMD build: the baseline each technique's row is compared with.
pub const ONE_THREAD_SIMD: EngineBuild = EngineBuild { threads: Some(1), relaxed_simd: false };
/// One thread with relaxed SIMD (fused multiply-add) where the browser has it.
pub const ONE_THREAD_RELAXED: EngineBuild = EngineBuild { threads: Some(1), relaxed_simd: true };
/// The best build: every core, relaxed SIMD where available.
pub const BEST: EngineBuild = EngineBuild { threads: None, relaxed_simd: true };

/// One browser backend of the kernel suite.
pub struct BrowserBackend {
    pub label: &'static str,
    pub device: &'static str,
    pub build: EngineBuild,
}

/// `browser-cpu` is the one-thread plain-SIMD build, so the `-relaxed` and `-threads` rows show
/// what each technique adds.
pub const BROWSER_BACKENDS: [BrowserBackend; 4] = [
    BrowserBackend { label: "browser-cpu", device: "cpu", build: ONE_THREAD_SIMD },
    BrowserBackend { label: "browser-cpu-relaxed", device: "cpu", build: ONE_THREAD_RELAXED },
    BrowserBackend { label: "browser-cpu-threads", device: "cpu", build: BEST },
    BrowserBackend { label: "browser-webgpu", device: "webgpu", build: BEST },
];

pub async fn run_browser_backends(
    runner_url: &str,
    selection: &BackendSelection,
    cases: &[KernelCase],
    refs: &References,
) -> Vec<EnvRecord> {
    let mut envs = Vec::new();
    for detection in detect_all().into_iter().filter(|d| selection.browsers.contains(&d.kind)) {
        let name = detection.kind.name();
        let session = match detection.install {
            Ok(install) => BrowserSession::launch(&install, runner_url).await.map_err(|e| e.to_string()),
            Err(reason) => Err(reason),
        };
        let session = match session {
            Ok(s) => s,
            Err(reason) => {
                envs.extend(unavailable_browser(detection.kind, selection, cases, &reason));
                super::progress::environments_finished(selection.browser_backends.len());
                continue;
            }
        };
        let probe = BrowserProbe::collect(&session).await;
        for backend in BROWSER_BACKENDS.iter().filter(|b| selection.browser_backends.contains(&b.label)) {
            let mut env = match adapter_for(&session, backend, &probe).await {
                Ok(adapter) => run_cases(&session, backend, adapter, cases, refs).await,
                Err(e) => unavailable(backend.label, cases, e.to_string()),
            };
            env.browser = Some(name.to_string());
            env.ran_in(&session);
            env.user_agent = probe.as_ref().ok().map(|p| p.user_agent.clone());
            envs.push(env);
            super::progress::environments_finished(1);
        }
        if let Err(e) = session.close().await {
            progress(format!("{name}: closing failed: {e}"));
        }
    }
    envs
}

/// The selected browser backends of `kind`, all marked unavailable for `reason`.
pub(crate) fn unavailable_browser(kind: BrowserKind, selection: &BackendSelection, cases: &[KernelCase], reason: &str) -> Vec<EnvRecord> {
    selection
        .browser_backends
        .iter()
        .map(|backend| EnvRecord { browser: Some(kind.name().into()), ..unavailable(backend, cases, reason.to_string()) })
        .collect()
}

/// What ran the work. For WebGPU the page's own `adapter.info` is authoritative: it is what
/// names SwiftShader or lavapipe, so simulated figures are flagged.
async fn adapter_for(session: &BrowserSession, backend: &BrowserBackend, probe: &Result<BrowserProbe>) -> Result<AdapterSummary> {
    let device = backend.device;
    let info = session.call("deviceInfo", vec![Value::String(device.into()), backend.build.json()]).await?;
    let mut adapter: AdapterSummary =
        serde_json::from_value(info).map_err(|e| HostError::Invalid(format!("deviceInfo({device}) returned bad JSON: {e}")))?;
    if device == "webgpu" {
        if let Ok(gpu) = probe.as_ref().map(|p| &p.webgpu) {
            adapter.vendor = gpu.vendor.clone();
            adapter.architecture = gpu.architecture.clone();
            if adapter.name.is_empty() {
                adapter.name = gpu.identity();
            }
            adapter.software = adapter.software
                || is_software_adapter(gpu.is_fallback_adapter, &[&gpu.vendor, &gpu.architecture, &gpu.description, &gpu.device]);
            adapter.features = gpu.features.clone();
        }
        adapter.backend = "WebGPU".into();
    }
    Ok(adapter)
}

async fn run_cases(
    session: &BrowserSession,
    backend: &BrowserBackend,
    adapter: AdapterSummary,
    cases: &[KernelCase],
    refs: &References,
) -> EnvRecord {
    let label = format!("{} ({})", backend.label, session.kind.name());
    progress(format!("{label}: {}{}", adapter.name, if adapter.software { " [software adapter]" } else { "" }));
    let mut records = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        if let Some(skipped) = cpu_only_elsewhere(case, backend.device == "cpu") {
            records.push(skipped);
            continue;
        }
        progress(format!("{label}: {}", describe(case)));
        records.push(match run_in_browser(session, case, backend.device, backend.build).await {
            Ok((samples, output)) => record(case, i, refs, samples, &output),
            Err(e) => failed(case, CaseStatus::Error, e.to_string()),
        });
    }
    EnvRecord::new(backend.label, adapter, records)
}

/// Run one case in the page, in the engine of `build`; returns the samples and the decoded output.
pub async fn run_in_browser(session: &BrowserSession, case: &KernelCase, device: &str, build: EngineBuild) -> Result<(Vec<f64>, Vec<f32>)> {
    let case_json = serde_json::to_string(case).map_err(|e| HostError::Invalid(e.to_string()))?;
    let args = vec![Value::String(case_json), Value::String(device.into()), build.json()];
    let reply = session.call("runKernelCase", args).await?;
    let bad = |what: &str| HostError::Invalid(format!("runKernelCase reply: {what}"));
    let samples: Vec<f64> = serde_json::from_value(reply.get("samplesMs").cloned().ok_or_else(|| bad("no samplesMs"))?)
        .map_err(|_| bad("samplesMs is not a list of numbers"))?;
    let encoded = reply.get("outputF32Base64").and_then(Value::as_str).ok_or_else(|| bad("no outputF32Base64"))?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(encoded).map_err(|_| bad("output is not base64"))?;
    if bytes.len() % 4 != 0 {
        return Err(bad("output length is not a whole number of f32s"));
    }
    let output = bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    Ok((samples, output))
}
