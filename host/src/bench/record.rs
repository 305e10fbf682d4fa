//! What a benchmark run produces, before it is stored.

use super::stats::Stats;
use crate::browser::BrowserSession;
use crate::env_info::{BuildInfo, HostInfo};
use ipfs_accelerate::AdapterSummary;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseStatus {
    /// Ran, and the output matched the reference within tolerance.
    Ok,
    /// Ran, but the output was wrong: the timing is recorded and must not be trusted.
    Mismatch,
    Error,
    /// The backend does not exist here (no WebGPU adapter, browser missing …).
    Unavailable,
}

impl CaseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Ok => "ok",
            CaseStatus::Mismatch => "mismatch",
            CaseStatus::Error => "error",
            CaseStatus::Unavailable => "unavailable",
        }
    }
}

#[derive(Debug, Clone)]
pub struct CaseRecord {
    pub kernel: String,
    pub shape: String,
    pub params_json: String,
    pub warmup: u32,
    pub samples_ms: Vec<f64>,
    pub stats: Option<Stats>,
    pub gflops: Option<f64>,
    pub max_abs_err: Option<f64>,
    pub max_rel_err: Option<f64>,
    pub tolerance: f64,
    pub status: CaseStatus,
    pub error: Option<String>,
}

impl CaseRecord {
    /// A case that ran `samples_ms` after `warmup` runs; status Ok until a check says otherwise.
    pub fn timed(kernel: &str, shape: &str, params: serde_json::Value, warmup: u32, samples_ms: Vec<f64>, tolerance: f64) -> CaseRecord {
        CaseRecord {
            kernel: kernel.into(),
            shape: shape.into(),
            params_json: params.to_string(),
            warmup,
            stats: super::stats::Stats::of(&samples_ms),
            samples_ms,
            gflops: None,
            max_abs_err: None,
            max_rel_err: None,
            tolerance,
            status: CaseStatus::Ok,
            error: None,
        }
    }

    /// A case that could not run, and why.
    pub fn failed(kernel: &str, shape: &str, status: CaseStatus, reason: &str) -> CaseRecord {
        let mut rec = CaseRecord::timed(kernel, shape, serde_json::json!({}), 0, Vec::new(), 0.0);
        rec.status = status;
        rec.error = Some(reason.to_string());
        rec
    }
}

/// One backend of a run: where the cases ran and what they gave.
#[derive(Debug, Clone)]
pub struct EnvRecord {
    /// native-cpu, native-wgpu, native-candle-cpu, browser-cpu or browser-webgpu (and their variants).
    pub backend: String,
    pub browser: Option<String>,
    pub browser_version: Option<String>,
    pub browser_flags: Vec<String>,
    pub user_agent: Option<String>,
    pub adapter: AdapterSummary,
    pub unavailable_reason: Option<String>,
    /// The grid node (or remote WebDriver endpoint) that ran the browser; None when local.
    pub webdriver_node: Option<String>,
    pub cases: Vec<CaseRecord>,
}

impl EnvRecord {
    /// `label` in a browser that is not installed here: no cases, and why.
    pub fn browser_unavailable(label: &str, browser: &str, reason: &str) -> EnvRecord {
        let mut env = EnvRecord::new(label, Default::default(), Vec::new());
        env.browser = Some(browser.into());
        env.unavailable_reason = Some(reason.into());
        env
    }

    /// A backend's results; browser details are filled in by the browser runner.
    pub fn new(backend: &str, adapter: AdapterSummary, cases: Vec<CaseRecord>) -> EnvRecord {
        EnvRecord {
            backend: backend.into(),
            browser: None,
            browser_version: None,
            browser_flags: Vec::new(),
            user_agent: None,
            adapter,
            unavailable_reason: None,
            webdriver_node: None,
            cases,
        }
    }

    /// What the session it ran in says about where: browser version, flags, grid node.
    pub fn ran_in(&mut self, session: &BrowserSession) {
        self.browser_version = Some(session.version.clone());
        self.browser_flags = session.flags.clone();
        self.webdriver_node = session.node.clone();
    }

    /// A label for tables: backend plus browser, e.g. `browser-webgpu (chromium)`.
    pub fn label(&self) -> String {
        match &self.browser {
            Some(b) => format!("{} ({b})", self.backend),
            None => self.backend.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct RunRecord {
    pub run_id: String,
    pub suite: String,
    pub command: String,
    pub started_at: f64,
    pub finished_at: f64,
    pub host: HostInfo,
    pub build: BuildInfo,
    pub environments: Vec<EnvRecord>,
}
