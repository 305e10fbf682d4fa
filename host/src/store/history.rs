//! Reading the history back across runs: naming a run by id, commit or `latest`, every raw
//! sample of a run, and every stored result of a model (for compare, recommend, compatibility).

use super::{RunRow, Store};
use crate::error::{Context, HostError, Result};
use std::collections::HashMap;

/// Where a case ran and what it was: the key that matches a case across runs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CaseKey {
    pub backend: String,
    pub browser: Option<String>,
    pub kernel: String,
    pub shape: String,
}

impl CaseKey {
    /// `kernel shape on backend (browser)`.
    pub fn label(&self) -> String {
        let place = match &self.browser {
            Some(b) => format!("{} ({b})", self.backend),
            None => self.backend.clone(),
        };
        format!("{} {} on {place}", self.kernel, self.shape)
    }
}

/// One case of one run with its raw samples.
#[derive(Debug, Clone)]
pub struct CaseSamples {
    pub key: CaseKey,
    pub status: String,
    pub error: Option<String>,
    pub software_adapter: bool,
    pub samples_ms: Vec<f64>,
}

/// One stored case result of a model, with the run it came from.
#[derive(Debug, Clone)]
pub struct HistoryRow {
    pub key: CaseKey,
    /// The weights' type: f32 or int8.
    pub dtype: String,
    pub params: serde_json::Value,
    pub status: String,
    pub error: Option<String>,
    pub software_adapter: bool,
    pub median_ms: Option<f64>,
    /// The case's accuracy figure (1 − cos for embeddings; max |Δ| for kernels).
    pub max_abs_err: Option<f64>,
    pub run_id: String,
    pub started_at: String,
    pub git_commit: Option<String>,
}

impl Store {
    /// A run named by its id, `latest` (the newest), or a commit (a prefix of at least 7 hex
    /// digits: its newest run). `suite` narrows `latest` and commits to runs of that suite.
    pub fn resolve_run(&self, spec: &str, suite: Option<&str>) -> Result<RunRow> {
        if spec != "latest" {
            if let Ok(run) = self.run(Some(spec)) {
                return Ok(run);
            }
        }
        let commit = spec != "latest";
        if commit && (spec.len() < 7 || !spec.chars().all(|c| c.is_ascii_hexdigit())) {
            return Err(HostError::Invalid(format!(
                "{spec:?} is neither a run id in the database, `latest`, nor a commit (7+ hex digits)"
            )));
        }
        let run_id: Option<String> = self
            .conn
            .query_row(
                "SELECT run_id FROM runs WHERE (? IS NULL OR suite = ?) AND (NOT ? OR starts_with(git_commit, ?))
                 ORDER BY started_at DESC LIMIT 1",
                duckdb::params![suite, suite, commit, spec.to_ascii_lowercase()],
                |r| r.get(0),
            )
            .map(Some)
            .or_else(|e| if matches!(e, duckdb::Error::QueryReturnedNoRows) { Ok(None) } else { Err(e) })
            .context("resolving a run")?;
        let suite_note = suite.map(|s| format!(" of suite {s:?}")).unwrap_or_default();
        match run_id {
            Some(id) => self.run(Some(&id)),
            None if commit => Err(HostError::Invalid(format!("no run{suite_note} of a commit starting {spec:?} in the database"))),
            None => Err(HostError::Invalid(format!("the database holds no runs{suite_note}; run `accelerate bench` first"))),
        }
    }

    /// Every case of a run with its raw samples, in case order.
    pub fn case_samples(&self, run_id: &str) -> Result<Vec<CaseSamples>> {
        let mut samples: HashMap<(i64, i64), Vec<f64>> = HashMap::new();
        {
            let mut stmt = self
                .conn
                .prepare("SELECT env_id, case_id, ms FROM samples WHERE run_id = ? ORDER BY env_id, case_id, sample_index")
                .context("preparing samples query")?;
            let rows = stmt.query_map([run_id], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?))).context("querying samples")?;
            for row in rows {
                let (case, ms): ((i64, i64), f64) = row.context("reading a sample")?;
                samples.entry(case).or_default().push(ms);
            }
        }
        let mut stmt = self
            .conn
            .prepare(
                "SELECT c.env_id, c.case_id, e.backend, e.browser, c.kernel, c.shape, c.status, c.error, e.software_adapter
                 FROM cases c JOIN environments e USING (run_id, env_id) WHERE c.run_id = ? ORDER BY c.env_id, c.case_id",
            )
            .context("preparing case query")?;
        let rows = stmt
            .query_map([run_id], |r| {
                let id: (i64, i64) = (r.get(0)?, r.get(1)?);
                Ok(CaseSamples {
                    key: CaseKey { backend: r.get(2)?, browser: r.get(3)?, kernel: r.get(4)?, shape: r.get(5)? },
                    status: r.get(6)?,
                    error: r.get(7)?,
                    software_adapter: r.get(8)?,
                    samples_ms: samples.remove(&id).unwrap_or_default(),
                })
            })
            .context("querying cases")?;
        rows.collect::<std::result::Result<_, _>>().context("reading cases")
    }

    /// Each case's median in up to `limit` runs of `suite` that started no later than `run_id`
    /// (the run itself excluded): how much a case moves from run to run when nothing changed.
    pub fn earlier_medians(&self, suite: &str, run_id: &str, limit: usize) -> Result<HashMap<CaseKey, Vec<f64>>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT e.backend, e.browser, c.kernel, c.shape, c.median_ms
                 FROM cases c JOIN environments e USING (run_id, env_id)
                 WHERE c.status = 'ok' AND c.median_ms > 0 AND c.run_id IN (
                     SELECT run_id FROM runs WHERE suite = ? AND run_id <> ?
                       AND started_at <= (SELECT started_at FROM runs WHERE run_id = ?)
                     ORDER BY started_at DESC LIMIT ?)",
            )
            .context("preparing earlier medians query")?;
        let rows = stmt
            .query_map(duckdb::params![suite, run_id, run_id, limit as i64], |r| {
                Ok((CaseKey { backend: r.get(0)?, browser: r.get(1)?, kernel: r.get(2)?, shape: r.get(3)? }, r.get::<_, f64>(4)?))
            })
            .context("querying earlier medians")?;
        let mut by_key: HashMap<CaseKey, Vec<f64>> = HashMap::new();
        for row in rows {
            let (key, median) = row.context("reading an earlier median")?;
            by_key.entry(key).or_default().push(median);
        }
        Ok(by_key)
    }

    /// What matrix `matrix` has already measured: (browser or "native", backend, model,
    /// workload) of every case stored `ok` or `mismatch` (a wrong output is a result; errors and
    /// unavailable cases are tried again on resume).
    pub fn matrix_done(&self, matrix: &str) -> Result<std::collections::HashSet<(String, String, String, String)>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT coalesce(e.browser, 'native'), e.backend, c.kernel, c.shape
                 FROM cases c JOIN environments e USING (run_id, env_id) JOIN matrix_runs m USING (run_id)
                 WHERE m.matrix = ? AND c.status IN ('ok', 'mismatch')",
            )
            .context("preparing matrix query")?;
        let rows = stmt.query_map([matrix], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).context("querying the matrix")?;
        rows.collect::<std::result::Result<_, _>>().context("reading the matrix")
    }

    /// Every stored result whose kernel is `kernel` (for the model suites: the model's name),
    /// or of every kernel when None; newest run first.
    pub fn history(&self, kernel: Option<&str>) -> Result<Vec<HistoryRow>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT e.backend, e.browser, c.kernel, c.shape, c.params, c.status, c.error, e.software_adapter, c.median_ms,
                        c.max_abs_err, r.run_id, strftime(r.started_at, '%Y-%m-%d %H:%M'), r.git_commit, c.dtype
                 FROM cases c JOIN environments e USING (run_id, env_id) JOIN runs r USING (run_id)
                 WHERE ? IS NULL OR c.kernel = ?
                 ORDER BY r.started_at DESC, c.env_id, c.case_id",
            )
            .context("preparing history query")?;
        let rows = stmt
            .query_map([kernel, kernel], |r| {
                let params: String = r.get(4)?;
                Ok(HistoryRow {
                    key: CaseKey { backend: r.get(0)?, browser: r.get(1)?, kernel: r.get(2)?, shape: r.get(3)? },
                    dtype: r.get(13)?,
                    params: serde_json::from_str(&params).unwrap_or(serde_json::Value::Null),
                    status: r.get(5)?,
                    error: r.get(6)?,
                    software_adapter: r.get(7)?,
                    median_ms: r.get(8)?,
                    max_abs_err: r.get(9)?,
                    run_id: r.get(10)?,
                    started_at: r.get(11)?,
                    git_commit: r.get(12)?,
                })
            })
            .context("querying history")?;
        rows.collect::<std::result::Result<_, _>>().context("reading history")
    }
}
