//! Gathering and printing the doctor report.

use super::native::{native_adapters, onnxruntime_location};
use super::probe::BrowserProbe;
use crate::browser::{detect_all, BrowserKind, BrowserSession};
use crate::env_info::{self, HostInfo};
use ipfs_accelerate::AdapterSummary;
use serde::Serialize;
use std::fmt::Write;

#[derive(Debug, Serialize)]
pub struct BrowserEntry {
    pub browser: BrowserKind,
    pub binary: Option<String>,
    pub driver: Option<String>,
    pub version: Option<String>,
    /// Why the browser could not be used, if it could not.
    pub problem: Option<String>,
    pub probe: Option<BrowserProbe>,
}

#[derive(Debug, Serialize)]
pub struct CpuKernels {
    pub matmul_f32: &'static str,
    pub matmul_int8: &'static str,
}

impl CpuKernels {
    fn detect() -> CpuKernels {
        let (matmul_f32, matmul_int8) = ipfs_accelerate::device::cpu::matmul_kernels();
        CpuKernels { matmul_f32, matmul_int8 }
    }
}

#[derive(Debug, Serialize)]
pub struct DoctorReport {
    pub host: HostInfo,
    pub sdk_cpu_path: String,
    /// The native matmul micro-kernels this CPU gets: f32 and int8 (e.g. avx512, avx512-vnni).
    pub sdk_cpu_kernels: CpuKernels,
    pub native_adapters: Vec<AdapterSummary>,
    /// How browsers are confined (see `isolation`): who they run as, where their drivers listen.
    pub browser_isolation: String,
    /// Where browser sessions are created: local drivers, or `--webdriver` endpoints; and
    /// whether `accelerate grid up` has a grid running.
    pub webdriver: String,
    pub onnxruntime: Result<String, String>,
    pub browsers: Vec<BrowserEntry>,
}

/// Probe everything; browsers are launched one at a time against the runner at `runner_url`
/// (None: report browsers as found without launching them).
pub async fn collect(runner_url: Option<&str>) -> DoctorReport {
    let mut browsers = Vec::new();
    for detection in detect_all() {
        let mut entry = BrowserEntry { browser: detection.kind, binary: None, driver: None, version: None, problem: None, probe: None };
        match detection.install {
            Err(reason) => entry.problem = Some(reason),
            Ok(install) => {
                entry.binary = Some(install.binary.display().to_string());
                entry.driver = Some(install.driver.display().to_string());
                entry.version = Some(install.version.clone());
                if let Some(url) = runner_url {
                    match BrowserSession::launch(&install, url).await {
                        Ok(session) => {
                            match BrowserProbe::collect(&session).await {
                                Ok(p) => entry.probe = Some(p),
                                Err(e) => entry.problem = Some(e.to_string()),
                            }
                            let _ = session.close().await;
                        }
                        Err(e) => entry.problem = Some(e.to_string()),
                    }
                }
            }
        }
        browsers.push(entry);
    }
    DoctorReport {
        host: env_info::host(),
        sdk_cpu_path: ipfs_accelerate::device::cpu::flavour().into(),
        sdk_cpu_kernels: CpuKernels::detect(),
        native_adapters: native_adapters().await,
        browser_isolation: isolation_summary(),
        webdriver: webdriver_summary(),
        onnxruntime: onnxruntime_location().map(|p| p.display().to_string()),
        browsers,
    }
}

fn isolation_summary() -> String {
    use crate::isolation::{jail, running_as_root, BROWSER_USER};
    match jail() {
        Ok(jail) => format!(
            "browsers run as {BROWSER_USER} (uid {}) in a private network namespace: Chromium sandboxed, drivers reachable only by \
             this host, DevTools over a pipe (chromium-webnn alone runs --no-sandbox: its headless shell has no working sandbox)",
            jail.user.uid
        ),
        Err(why) if running_as_root() => format!("NOT isolated: {why}; browsers run as root with --no-sandbox"),
        Err(why) => format!("partly isolated: {why}; Chromium sandboxed, DevTools over a pipe"),
    }
}

fn webdriver_summary() -> String {
    let sessions = match crate::browser::webdriver_endpoints() {
        Ok([]) => "local drivers, one per session".to_string(),
        Ok(endpoints) => format!("on {} (--webdriver)", endpoints.join(", ")),
        Err(e) => format!("invalid endpoint: {e}"),
    };
    match crate::grid::current() {
        Ok(Some(grid)) => format!("{sessions}; a local grid runs at {} with {} node(s)", grid.hub_url, grid.nodes.len()),
        Ok(None) => sessions,
        Err(e) => format!("{sessions}; grid state unreadable: {e}"),
    }
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

impl DoctorReport {
    pub fn render(&self) -> String {
        let mut out = String::new();
        let h = &self.host;
        let _ = writeln!(out, "host       {} — {} ({})", h.host_name, h.os, h.kernel);
        let _ =
            writeln!(out, "cpu        {} × {} cores, {:.1} GiB RAM", h.cpu_model, h.cpu_cores, h.memory_bytes as f64 / (1u64 << 30) as f64);
        let _ = writeln!(out, "cpu feats  {}", h.cpu_features.join(" "));
        let k = &self.sdk_cpu_kernels;
        let _ = writeln!(out, "kernels    matmul f32: {}, int8: {}", k.matmul_f32, k.matmul_int8);
        let _ = writeln!(out, "isolation  {}", self.browser_isolation);
        let _ = writeln!(out, "webdriver  {}", self.webdriver);
        let _ = writeln!(out, "\nnative wgpu adapters:");
        if self.native_adapters.is_empty() {
            let _ = writeln!(out, "  none (install mesa-vulkan-drivers for lavapipe)");
        }
        for a in &self.native_adapters {
            let sw = if a.software { "  [SOFTWARE adapter: CPU emulation, not a GPU figure]" } else { "" };
            let f16 = a.features.iter().any(|f| f == "shader_f16");
            let _ = writeln!(out, "  {} ({}, {}, {}) shader-f16={}{sw}", a.name, a.backend, a.device_type, a.driver, yes(f16));
        }
        match &self.onnxruntime {
            Ok(p) => _ = writeln!(out, "\nONNX Runtime  found: {p}"),
            Err(e) => _ = writeln!(out, "\nONNX Runtime  {e}"),
        }
        let _ = writeln!(out, "\nbrowsers:");
        for b in &self.browsers {
            let name = b.browser.name();
            match (&b.version, &b.problem, &b.probe) {
                (None, Some(problem), _) => _ = writeln!(out, "  {name:<9} absent: {problem}"),
                (version, problem, probe) => {
                    let _ =
                        writeln!(out, "  {name:<9} {}  (driver {})", version.as_deref().unwrap_or("?"), b.driver.as_deref().unwrap_or("?"));
                    if let Some(problem) = problem {
                        let _ = writeln!(out, "            problem: {problem}");
                    }
                    if let Some(p) = probe {
                        render_probe(&mut out, p);
                    }
                }
            }
        }
        out
    }
}

fn render_probe(out: &mut String, p: &BrowserProbe) {
    let g = &p.webgpu;
    if g.available {
        let sw = if g.software() { "  [SOFTWARE adapter: CPU emulation, not a GPU figure]" } else { "" };
        let fallback = if g.is_fallback_adapter { " (isFallbackAdapter)" } else { "" };
        let _ = writeln!(out, "            WebGPU   {}{fallback}{sw}", g.identity());
        let limit = |k: &str| g.limits.get(k).map(|v| v.to_string()).unwrap_or_else(|| "?".into());
        let _ = writeln!(
            out,
            "                     shader-f16={}  maxBufferSize={}  maxStorageBinding={}  maxWorkgroupStorage={}",
            yes(g.shader_f16()),
            limit("maxBufferSize"),
            limit("maxStorageBufferBindingSize"),
            limit("maxComputeWorkgroupStorageSize")
        );
    } else {
        let _ = writeln!(out, "            WebGPU   unavailable: {}", g.reason.as_deref().unwrap_or("unknown"));
    }
    let n = &p.webnn;
    let webnn = match (n.present, n.context) {
        (false, _) => "absent (navigator.ml missing)".to_string(),
        (true, true) => "present, context created".to_string(),
        (true, false) => format!("present, createContext() failed: {}", n.reason.as_deref().unwrap_or("?")),
    };
    let _ = writeln!(out, "            WebNN    {webnn}");
    if n.context {
        let working = n.working_devices();
        let working = if working.is_empty() { "none".to_string() } else { working.join(", ") };
        let _ = writeln!(out, "                     devices that run a graph: {working}");
        for d in n.devices.iter().filter(|d| !d.runs && d.device_type != "default") {
            let _ = writeln!(out, "                     {}: {}", d.device_type, d.reason.as_deref().unwrap_or("?"));
        }
    }
    let w = &p.wasm;
    let _ = writeln!(
        out,
        "            wasm     simd={} relaxed-simd={} threads={} (crossOriginIsolated={})  sdk cpu path={}",
        yes(w.simd),
        yes(w.relaxed_simd),
        yes(w.threads),
        yes(w.cross_origin_isolated),
        p.cpu_flavour
    );
    let quota = p.storage.quota_bytes.map(|q| format!("{:.1} GiB", q / (1u64 << 30) as f64)).unwrap_or_else(|| "?".into());
    let _ = writeln!(out, "            storage  IndexedDB={} quota={quota}", yes(p.storage.indexed_db));
}
