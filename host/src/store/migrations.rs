//! Ordered SQL migrations from `schema/`, each applied once, in its own transaction.

use crate::error::{Context, HostError, Result};

/// (version, name, SQL). Append only: never edit a migration that has shipped.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "0001_initial", include_str!("../../../schema/0001_initial.sql")),
    (2, "0002_case_dtype", include_str!("../../../schema/0002_case_dtype.sql")),
    (3, "0003_environment_node", include_str!("../../../schema/0003_environment_node.sql")),
    (4, "0004_matrix_runs", include_str!("../../../schema/0004_matrix_runs.sql")),
];

pub fn apply(conn: &mut duckdb::Connection) -> Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    )
    .context("creating schema_migrations")?;
    let applied: i64 =
        conn.query_row("SELECT coalesce(max(version), 0) FROM schema_migrations", [], |r| r.get(0)).context("reading schema version")?;
    let newest = MIGRATIONS.last().map(|m| m.0).unwrap_or(0);
    if applied > newest {
        return Err(HostError::Invalid(format!(
            "database schema version {applied} is newer than this build knows ({newest}); upgrade accelerate"
        )));
    }
    for &(version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 > applied) {
        let tx = conn.transaction().context(format!("starting migration {name}"))?;
        tx.execute_batch(sql).context(format!("applying migration {name}"))?;
        tx.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", duckdb::params![version, name])
            .context(format!("recording migration {name}"))?;
        tx.commit().context(format!("committing migration {name}"))?;
    }
    Ok(())
}
