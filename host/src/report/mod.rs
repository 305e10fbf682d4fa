//! Reports of a stored run: a terminal table and a self-contained HTML page.

mod compare_html;
mod compat_html;
mod html;
mod page;
mod table;

pub use compare_html::render_compare_html;
pub use html::render_html;
pub use table::render_table;

use crate::analysis::compat::CompatMatrix;
use crate::error::Result;
use crate::store::{CaseRow, EnvRow, RunRow, Store};

/// One run as read back from the store, with what the whole database says works where.
pub struct RunView {
    pub run: RunRow,
    pub envs: Vec<EnvRow>,
    pub cases: Vec<CaseRow>,
    pub compat: CompatMatrix,
}

impl RunView {
    pub fn load(store: &Store, run_id: Option<&str>) -> Result<RunView> {
        let run = store.run(run_id)?;
        let envs = store.environments(&run.run_id)?;
        let cases = store.cases(&run.run_id)?;
        let compat = CompatMatrix::from_history(&store.history(None)?);
        Ok(RunView { run, envs, cases, compat })
    }

    pub fn env(&self, env_id: i64) -> Option<&EnvRow> {
        self.envs.iter().find(|e| e.env_id == env_id)
    }

    /// Distinct (kernel, shape) in suite order.
    pub fn case_keys(&self) -> Vec<(String, String)> {
        let mut keys: Vec<(String, String)> = Vec::new();
        for c in &self.cases {
            if !keys.iter().any(|(k, s)| *k == c.kernel && *s == c.shape) {
                keys.push((c.kernel.clone(), c.shape.clone()));
            }
        }
        keys
    }

    /// Median of the native-cpu run of the same case: the in-run baseline for ratios.
    pub fn baseline_ms(&self, kernel: &str, shape: &str) -> Option<f64> {
        let base = self.envs.iter().find(|e| e.backend == "native-cpu")?;
        self.cases
            .iter()
            .find(|c| c.env_id == base.env_id && c.kernel == kernel && c.shape == shape && c.status == "ok")
            .and_then(|c| c.median_ms)
    }

    pub fn env_label(&self, env_id: i64) -> String {
        self.env(env_id).map(|e| e.label()).unwrap_or_else(|| format!("env {env_id}"))
    }

    pub fn is_software(&self, env_id: i64) -> bool {
        self.env(env_id).is_some_and(|e| e.software_adapter)
    }
}
