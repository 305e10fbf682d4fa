//! Reading runs back for reports.

use super::Store;
use crate::error::{Context, HostError, Result};

#[derive(Debug, Clone)]
pub struct RunRow {
    pub run_id: String,
    pub suite: String,
    pub started_at: String,
    pub git_commit: Option<String>,
    pub git_dirty: Option<bool>,
    pub host_name: String,
    pub os: String,
    pub cpu_model: String,
    pub cpu_cores: i64,
}

#[derive(Debug, Clone)]
pub struct EnvRow {
    pub env_id: i64,
    pub backend: String,
    pub browser: Option<String>,
    pub browser_version: Option<String>,
    pub adapter_name: String,
    pub adapter_backend: String,
    pub software_adapter: bool,
    pub unavailable_reason: Option<String>,
    /// The grid node that ran the browser, when it ran on one.
    pub webdriver_node: Option<String>,
}

impl EnvRow {
    pub fn label(&self) -> String {
        match &self.browser {
            Some(b) => format!("{} ({b})", self.backend),
            None => self.backend.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct CaseRow {
    pub env_id: i64,
    pub kernel: String,
    pub shape: String,
    pub sample_count: i64,
    pub median_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub mad_ms: Option<f64>,
    pub gflops: Option<f64>,
    pub max_abs_err: Option<f64>,
    pub status: String,
    pub error: Option<String>,
}

impl Store {
    /// The given run, or the newest one.
    pub fn run(&self, run_id: Option<&str>) -> Result<RunRow> {
        let sql =
            "SELECT run_id, suite, strftime(started_at, '%Y-%m-%d %H:%M:%S %Z'), git_commit, git_dirty, host_name, os, cpu_model, cpu_cores
                   FROM runs WHERE (? IS NULL OR run_id = ?) ORDER BY started_at DESC LIMIT 1";
        let mut stmt = self.conn.prepare(sql).context("preparing run query")?;
        let mut rows = stmt
            .query_map(duckdb::params![run_id, run_id], |r| {
                Ok(RunRow {
                    run_id: r.get(0)?,
                    suite: r.get(1)?,
                    started_at: r.get(2)?,
                    git_commit: r.get(3)?,
                    git_dirty: r.get(4)?,
                    host_name: r.get(5)?,
                    os: r.get(6)?,
                    cpu_model: r.get(7)?,
                    cpu_cores: r.get(8)?,
                })
            })
            .context("querying runs")?;
        match rows.next() {
            Some(row) => row.context("reading run"),
            None => Err(HostError::Invalid(match run_id {
                Some(id) => format!("no run with id {id:?} in the database"),
                None => "the database holds no runs yet; run `accelerate bench` first".into(),
            })),
        }
    }

    pub fn environments(&self, run_id: &str) -> Result<Vec<EnvRow>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT env_id, backend, browser, browser_version, adapter_name, adapter_backend, software_adapter, unavailable_reason,
                        webdriver_node
                 FROM environments WHERE run_id = ? ORDER BY env_id",
            )
            .context("preparing environments query")?;
        let rows = stmt
            .query_map([run_id], |r| {
                Ok(EnvRow {
                    env_id: r.get(0)?,
                    backend: r.get(1)?,
                    browser: r.get(2)?,
                    browser_version: r.get(3)?,
                    adapter_name: r.get(4)?,
                    adapter_backend: r.get(5)?,
                    software_adapter: r.get(6)?,
                    unavailable_reason: r.get(7)?,
                    webdriver_node: r.get(8)?,
                })
            })
            .context("querying environments")?;
        rows.collect::<std::result::Result<_, _>>().context("reading environments")
    }

    pub fn cases(&self, run_id: &str) -> Result<Vec<CaseRow>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT env_id, kernel, shape, sample_count, median_ms, p90_ms, mad_ms, gflops, max_abs_err, status, error
                 FROM cases WHERE run_id = ? ORDER BY case_id, env_id",
            )
            .context("preparing cases query")?;
        let rows = stmt
            .query_map([run_id], |r| {
                Ok(CaseRow {
                    env_id: r.get(0)?,
                    kernel: r.get(1)?,
                    shape: r.get(2)?,
                    sample_count: r.get(3)?,
                    median_ms: r.get(4)?,
                    p90_ms: r.get(5)?,
                    mad_ms: r.get(6)?,
                    gflops: r.get(7)?,
                    max_abs_err: r.get(8)?,
                    status: r.get(9)?,
                    error: r.get(10)?,
                })
            })
            .context("querying cases")?;
        rows.collect::<std::result::Result<_, _>>().context("reading cases")
    }

    /// Which browser has run `kernel`/`shape` on `backend` fastest so far: per browser, the
    /// median of its stored `ok` medians, fastest first (for placing work in the pool).
    pub fn browser_history(&self, kernel: &str, shape: &str, backend: &str) -> Result<Vec<(String, f64)>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT e.browser, median(c.median_ms) AS ms FROM cases c JOIN environments e USING (run_id, env_id)
                 WHERE c.kernel = ? AND c.shape = ? AND e.backend = ? AND c.status = 'ok' AND e.browser IS NOT NULL
                   AND c.median_ms IS NOT NULL
                 GROUP BY e.browser ORDER BY ms",
            )
            .context("preparing browser history query")?;
        let rows = stmt.query_map([kernel, shape, backend], |r| Ok((r.get(0)?, r.get(1)?))).context("querying browser history")?;
        rows.collect::<std::result::Result<_, _>>().context("reading browser history")
    }

    /// Number of samples stored for a run (used by tests and the CLI summary).
    pub fn sample_count(&self, run_id: &str) -> Result<i64> {
        self.conn.query_row("SELECT count(*) FROM samples WHERE run_id = ?", [run_id], |r| r.get(0)).context("counting samples")
    }
}
