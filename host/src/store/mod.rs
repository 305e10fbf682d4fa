//! The DuckDB result store: schema from ordered migrations in `schema/`, applied on open;
//! each run is written in one transaction, so a failure leaves nothing half-written.

mod history;
mod migrations;
mod read;
mod write;

pub use history::{CaseKey, CaseSamples, HistoryRow};
pub use read::{CaseRow, EnvRow, RunRow};

use crate::error::{Context, Result};
use std::path::Path;

pub struct Store {
    conn: duckdb::Connection,
}

impl Store {
    /// Open (or create) the database file and bring its schema up to date.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).context(format!("creating {}", parent.display()))?;
        }
        let conn = duckdb::Connection::open(path).context(format!("opening {}", path.display()))?;
        let mut store = Store { conn };
        migrations::apply(&mut store.conn)?;
        Ok(store)
    }

    /// An in-memory database (tests, dry runs).
    pub fn open_in_memory() -> Result<Store> {
        let conn = duckdb::Connection::open_in_memory().context("opening in-memory DuckDB")?;
        let mut store = Store { conn };
        migrations::apply(&mut store.conn)?;
        Ok(store)
    }

    pub fn schema_version(&self) -> Result<i64> {
        self.conn.query_row("SELECT max(version) FROM schema_migrations", [], |r| r.get(0)).context("reading schema version")
    }
}
