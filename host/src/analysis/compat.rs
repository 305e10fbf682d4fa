//! What works where: model (or kernel) × dtype against browser × backend, from the newest run
//! that tried each pair — works, fails (with the error), unavailable (with why), or untested.

use crate::store::HistoryRow;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
pub enum Compat {
    Works { run_id: String },
    Fails { run_id: String, error: String },
    Unavailable { run_id: String, reason: String },
}

/// A matrix row: (kernel or model, dtype).
pub type Row = (String, String);
/// A matrix column: (browser or "native", backend).
pub type Column = (String, String);

/// Rows × columns; a missing cell is untested.
#[derive(Debug, Clone, Default)]
pub struct CompatMatrix {
    pub rows: Vec<Row>,
    pub columns: Vec<Column>,
    pub cells: BTreeMap<(Row, Column), Compat>,
}

impl CompatMatrix {
    /// `history` newest run first, as the store returns it.
    pub fn from_history(history: &[HistoryRow]) -> CompatMatrix {
        let mut m = CompatMatrix::default();
        // The newest run of each pair decides its cell; within that run, any failing case fails it.
        let mut newest: BTreeMap<(Row, Column), (String, Vec<&HistoryRow>)> = BTreeMap::new();
        for row in history {
            let key = (
                (row.key.kernel.clone(), row.dtype.clone()),
                (row.key.browser.clone().unwrap_or_else(|| "native".into()), row.key.backend.clone()),
            );
            let entry = newest.entry(key).or_insert_with(|| (row.run_id.clone(), Vec::new()));
            if entry.0 == row.run_id {
                entry.1.push(row);
            }
        }
        for (key, (run_id, rows)) in newest {
            let failed = rows.iter().find(|r| r.status == "mismatch" || r.status == "error");
            let cell = match failed {
                Some(r) => {
                    Compat::Fails { run_id, error: format!("{} {}: {}", r.key.shape, r.status, r.error.as_deref().unwrap_or("no message")) }
                }
                None if rows.iter().all(|r| r.status == "unavailable") => Compat::Unavailable {
                    run_id,
                    reason: rows.iter().find_map(|r| r.error.clone()).unwrap_or_else(|| "no reason given".into()),
                },
                None => Compat::Works { run_id },
            };
            if !m.rows.contains(&key.0) {
                m.rows.push(key.0.clone());
            }
            if !m.columns.contains(&key.1) {
                m.columns.push(key.1.clone());
            }
            m.cells.insert(key, cell);
        }
        m.rows.sort();
        m.columns.sort();
        m
    }

    pub fn cell(&self, row: &Row, column: &Column) -> Option<&Compat> {
        self.cells.get(&(row.clone(), column.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::CaseKey;

    fn row(run: &str, browser: Option<&str>, backend: &str, kernel: &str, shape: &str, status: &str) -> HistoryRow {
        HistoryRow {
            key: CaseKey { backend: backend.into(), browser: browser.map(String::from), kernel: kernel.into(), shape: shape.into() },
            dtype: "f32".into(),
            params: serde_json::Value::Null,
            status: status.into(),
            error: (status != "ok").then(|| format!("why {status}")),
            software_adapter: false,
            median_ms: None,
            max_abs_err: None,
            run_id: run.into(),
            started_at: String::new(),
            git_commit: None,
        }
    }

    #[test]
    fn the_newest_run_decides_and_any_failing_case_fails_the_cell() {
        let history = vec![
            row("new", None, "native-cpu", "minilm", "b1", "ok"),
            row("new", None, "native-cpu", "minilm", "b8", "mismatch"),
            row("new", Some("firefox"), "browser-webnn", "minilm", "b1", "unavailable"),
            row("old", None, "native-cpu", "minilm", "b1", "ok"),
            row("old", Some("chromium"), "browser-cpu", "minilm", "b1", "ok"),
            row("old", Some("chromium"), "browser-cpu", "minilm", "b8", "ok"),
            row("older", Some("chromium"), "browser-cpu", "minilm", "b1", "error"),
        ];
        let m = CompatMatrix::from_history(&history);
        let model = ("minilm".to_string(), "f32".to_string());
        let col = |b: &str, be: &str| (b.to_string(), be.to_string());
        assert_eq!(
            m.cell(&model, &col("native", "native-cpu")),
            Some(&Compat::Fails { run_id: "new".into(), error: "b8 mismatch: why mismatch".into() })
        );
        assert_eq!(m.cell(&model, &col("chromium", "browser-cpu")), Some(&Compat::Works { run_id: "old".into() }));
        assert_eq!(
            m.cell(&model, &col("firefox", "browser-webnn")),
            Some(&Compat::Unavailable { run_id: "new".into(), reason: "why unavailable".into() })
        );
        assert_eq!(m.cell(&model, &col("firefox", "browser-cpu")), None, "never tried: untested");
        assert_eq!(m.columns.len(), 3);
    }
}
