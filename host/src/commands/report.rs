//! `accelerate report`: the HTML report of a stored run; [`write_report`] also serves `bench --report`.

use crate::error::Context;
use crate::report::{render_html, render_table, RunView};
use crate::store::Store;
use crate::{paths, HostError, Result};
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value_os_t = paths::default_db())]
    db: PathBuf,
    /// Run id (default: newest).
    #[arg(long)]
    run: Option<String>,
    #[arg(long, default_value = "results/report.html")]
    out: PathBuf,
    /// Also print the terminal table.
    #[arg(long)]
    table: bool,
}

pub fn run(Args { db, run, out, table }: Args) -> Result<()> {
    let store = existing_store(&db)?;
    let view = RunView::load(&store, run.as_deref())?;
    if table {
        print!("{}", render_table(&view));
    }
    write_report(&view, &out)
}

pub(super) fn write_report(view: &RunView, path: &Path) -> Result<()> {
    write_html(&render_html(view), path)
}

/// Write a page next to nothing half-done: a temp file renamed into place.
pub(super) fn write_html(html: &str, path: &Path) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).context(format!("creating {}", parent.display()))?;
    }
    let tmp = path.with_extension("html.partial");
    std::fs::write(&tmp, html).context(format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).context(format!("moving report into {}", path.display()))?;
    println!("report: {}", path.display());
    Ok(())
}

/// The database a reading command names, which must already exist (opening would create it).
pub(super) fn existing_store(db: &Path) -> Result<Store> {
    if !db.is_file() {
        return Err(HostError::Invalid(format!("{} does not exist; run `accelerate bench` first", db.display())));
    }
    Store::open(db)
}
