//! `accelerate bench`: run one or more suites of the registry (`bench/registry.rs`), store each
//! run in DuckDB, print its table and optionally write its HTML report.

use super::report::write_report;
use crate::bench::progress::SuiteProgress;
use crate::bench::{matrix, registry, BenchOptions};
use crate::report::{render_table, RunView};
use crate::store::Store;
use crate::{paths, HostError, Result};
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
#[command(mut_arg("backends", |a| a.help(registry::backends_help())), mut_arg("browsers", |a| a.help(registry::browsers_help())))]
pub struct Args {
    #[arg(long, value_delimiter = ',', default_value = "kernels", help = registry::suites_help())]
    suite: Vec<String>,
    /// DuckDB file to append the run to.
    #[arg(long, default_value_os_t = paths::default_db())]
    db: PathBuf,
    /// Also write the HTML report here; without a path, to each suite's default
    /// (results/<suite>.html, results/report.html for kernels).
    #[arg(long, num_args = 0..=1, value_name = "PATH")]
    report: Option<Option<PathBuf>>,
    /// Run a benchmark matrix from a TOML file instead of suites (models × backends ×
    /// browsers × dtypes × shapes; docs/benchmarking.md): cells run side by side, each stored
    /// as its own run; running the same matrix again skips the cases already stored.
    #[arg(long, value_name = "FILE.toml")]
    matrix: Option<PathBuf>,
    #[command(flatten)]
    options: BenchOptions,
}

pub async fn run(Args { suite, db, report, matrix, options }: Args) -> Result<()> {
    if let Some(file) = matrix {
        return run_matrix(&file, &db).await;
    }
    let suites = registry::parse(&suite)?;
    if let (Some(Some(path)), true) = (&report, suites.len() > 1) {
        return Err(HostError::Invalid(format!(
            "--report {} names one file for {} suites; give --report without a path to write each suite's own",
            path.display(),
            suites.len()
        )));
    }
    // Every suite's options are checked, and the store opened, before minutes of benchmarking.
    let resolved = suites.iter().map(|s| s.options(&options)).collect::<Result<Vec<_>>>()?;
    Store::open(&db)?;
    let command = super::command_line();
    let count = suites.len();
    for (i, (suite, opts)) in suites.into_iter().zip(resolved).enumerate() {
        let bar = SuiteProgress::start(&format!("[{}/{count}] {}", i + 1, suite.name()), suite.planned_environments(&opts));
        let record = suite.run(&command, opts, &options).await?;
        drop(bar);
        let mut store = Store::open(&db)?;
        store.insert_run(&record)?;
        let view = RunView::load(&store, Some(&record.run_id))?;
        print!("{}", render_table(&view));
        println!("\nstored run {} in {}", record.run_id, db.display());
        if let Some(path) = &report {
            write_report(&view, path.as_deref().unwrap_or(Path::new(suite.about().default_report)))?;
        }
    }
    Ok(())
}

async fn run_matrix(file: &Path, db: &Path) -> Result<()> {
    let spec = matrix::load(file)?;
    let mut store = Store::open(db)?;
    let done = store.matrix_done(&spec.name)?;
    let report =
        matrix::run(&spec, &done, &super::command_line(), |cell, run| store.insert_matrix_run(run, &spec.name, &cell.key())).await?;
    for why in &report.impossible {
        println!("not a cell: {why}");
    }
    for cell in &report.skipped {
        println!("skipped (already stored): {cell}");
    }
    for (cell, run_id, node) in &report.ran {
        let node = node.as_deref().map(|n| format!(" on grid node {n}")).unwrap_or_default();
        println!("ran {cell}{node}: run {run_id}");
    }
    println!(
        "matrix {}: {} cell(s) run, {} skipped; results in {} (accelerate compare / recommend read them)",
        spec.name,
        report.ran.len(),
        report.skipped.len(),
        db.display()
    );
    Ok(())
}
