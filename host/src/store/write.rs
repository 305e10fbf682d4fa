//! Writing a whole run atomically.

use super::Store;
use crate::backends::models::weight_dtype;
use crate::bench::record::RunRecord;
use crate::error::{Context, Result};
use duckdb::params;

impl Store {
    /// Insert a run with all its environments, cases and samples in one transaction.
    pub fn insert_run(&mut self, run: &RunRecord) -> Result<()> {
        self.insert_run_of(run, None)
    }

    /// Insert a run that measured `cell` of the benchmark matrix `matrix`, in the same
    /// transaction as the run itself (a matrix never records a cell it did not store).
    pub fn insert_matrix_run(&mut self, run: &RunRecord, matrix: &str, cell: &str) -> Result<()> {
        self.insert_run_of(run, Some((matrix, cell)))
    }

    fn insert_run_of(&mut self, run: &RunRecord, matrix_cell: Option<(&str, &str)>) -> Result<()> {
        let tx = self.conn.transaction().context("starting run transaction")?;
        let (h, b) = (&run.host, &run.build);
        tx.execute(
            "INSERT INTO runs VALUES (?, ?, ?, to_timestamp(?), to_timestamp(?), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            params![
                run.run_id,
                run.suite,
                run.command,
                run.started_at,
                run.finished_at,
                b.tool_version,
                b.profile,
                b.git_commit,
                b.git_dirty,
                h.host_name,
                h.os,
                h.kernel,
                h.cpu_model,
                h.cpu_cores as i64,
                h.memory_bytes as i64,
                h.cpu_features.join(","),
            ],
        )
        .context("inserting run")?;
        for (env_id, env) in run.environments.iter().enumerate() {
            let a = &env.adapter;
            tx.execute(
                "INSERT INTO environments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                params![
                    run.run_id,
                    env_id as i64,
                    env.backend,
                    env.browser,
                    env.browser_version,
                    env.browser_flags.join(" "),
                    env.user_agent,
                    a.name,
                    a.vendor,
                    a.architecture,
                    a.backend,
                    a.driver,
                    a.device_type,
                    a.software,
                    a.features.join(","),
                    env.unavailable_reason.is_none(),
                    env.unavailable_reason,
                    env.webdriver_node,
                ],
            )
            .context(format!("inserting environment {}", env.label()))?;
            for (case_id, c) in env.cases.iter().enumerate() {
                let s = c.stats;
                tx.execute(
                    "INSERT INTO cases VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    params![
                        run.run_id,
                        env_id as i64,
                        case_id as i64,
                        c.kernel,
                        c.shape,
                        weight_dtype(&c.kernel, &env.backend),
                        c.params_json,
                        c.warmup as i64,
                        c.samples_ms.len() as i64,
                        s.map(|s| s.median),
                        s.map(|s| s.p90),
                        s.map(|s| s.min),
                        s.map(|s| s.max),
                        s.map(|s| s.mean),
                        s.map(|s| s.stddev),
                        s.map(|s| s.mad),
                        c.gflops,
                        c.max_abs_err,
                        c.max_rel_err,
                        c.tolerance,
                        c.status.as_str(),
                        c.error,
                    ],
                )
                .context(format!("inserting case {} {}", c.kernel, c.shape))?;
                let mut insert = tx.prepare_cached("INSERT INTO samples VALUES (?, ?, ?, ?, ?)").context("preparing sample insert")?;
                for (i, ms) in c.samples_ms.iter().enumerate() {
                    insert.execute(params![run.run_id, env_id as i64, case_id as i64, i as i64, ms]).context("inserting sample")?;
                }
            }
        }
        if let Some((matrix, cell)) = matrix_cell {
            tx.execute("INSERT INTO matrix_runs VALUES (?, ?, ?)", params![matrix, run.run_id, cell])
                .context("recording the matrix cell")?;
        }
        tx.commit().context("committing run")
    }
}
