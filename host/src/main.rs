//! `accelerate`: the native host CLI.

use clap::{Parser, Subcommand};
use ipfs_accelerate_host::bench::{self, kernels, BackendSelection};
use ipfs_accelerate_host::browser::BrowserKind;
use ipfs_accelerate_host::report::{render_html, render_table, RunView};
use ipfs_accelerate_host::server::RunnerServer;
use ipfs_accelerate_host::store::Store;
use ipfs_accelerate_host::{doctor, paths, HostError, Result};
use std::path::{Path, PathBuf};

#[derive(Parser)]
#[command(name = "accelerate", version, about = "Run, benchmark and compare ML kernels in real browsers and natively")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// What this machine has: browsers, WebGPU/WebNN/wasm features, native GPU adapters, ONNX Runtime.
    Doctor {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Only look for browsers; do not launch them.
        #[arg(long)]
        no_launch: bool,
    },
    /// Run a benchmark suite on every available backend and store the results in DuckDB.
    Bench {
        /// Suite to run: `kernels` (full) or `kernels-smoke` (tiny shapes).
        #[arg(long, default_value = "kernels")]
        suite: String,
        /// DuckDB file to append the run to.
        #[arg(long, default_value_os_t = paths::default_db())]
        db: PathBuf,
        #[arg(long, default_value_t = 3)]
        warmup: u32,
        #[arg(long, default_value_t = 10)]
        samples: u32,
        /// Comma-separated backends: native-cpu, native-wgpu, browser-cpu, browser-webgpu.
        #[arg(long, value_delimiter = ',', default_value = "native-cpu,native-wgpu,browser-cpu,browser-webgpu")]
        backends: Vec<String>,
        /// Comma-separated browsers for the browser backends: chromium, firefox, edge, safari.
        #[arg(long, value_delimiter = ',', default_value = "chromium,firefox")]
        browsers: Vec<String>,
        /// Also write the HTML report here.
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// Write a self-contained HTML report of a stored run (the newest by default).
    Report {
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
    },
    /// Embed texts with one model on one native backend; print each embedding's head and the timing.
    Run {
        /// minilm (all-MiniLM-L6-v2 f32), minilm-int8 (its int8 ONNX), minilm-l3 (paraphrase-MiniLM-L3-v2 ONNX).
        #[arg(long, default_value = "minilm")]
        model: String,
        /// ours-cpu, ours-wgpu, ort-cpu (ONNX Runtime) or candle-cpu.
        #[arg(long, default_value = "ours-cpu")]
        backend: String,
        /// How many leading values of each embedding to print.
        #[arg(long, default_value_t = 8)]
        head: usize,
        /// The texts to embed.
        #[arg(required = true)]
        texts: Vec<String>,
    },
    /// Serve the runner page and wasm package on loopback until interrupted (for debugging).
    Serve,
}

#[tokio::main]
async fn main() {
    if let Err(e) = run(Cli::parse()).await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Doctor { json, no_launch } => {
            let server = if no_launch { None } else { RunnerServer::start(paths::wasm_pkg_dir()).await.map_err(warn).ok() };
            let report = doctor::collect(server.as_ref().map(|s| s.url()).as_deref()).await;
            if json {
                println!("{}", serde_json::to_string_pretty(&report).map_err(|e| HostError::Invalid(e.to_string()))?);
            } else {
                print!("{}", report.render());
            }
            Ok(())
        }
        Command::Bench { suite, db, warmup, samples, backends, browsers, report } => {
            let selection = selection(&backends, &browsers)?;
            let cases = match suite.as_str() {
                "kernels" => kernels::suite(warmup, samples),
                "kernels-smoke" => kernels::smoke(warmup, samples),
                other => return Err(HostError::Invalid(format!("unknown suite {other:?}; available: kernels, kernels-smoke"))),
            };
            let command = std::env::args().collect::<Vec<_>>().join(" ");
            // Open the store first: a bad --db path fails before minutes of benchmarking.
            let mut store = Store::open(&db)?;
            let record = bench::run_suite(&suite, &command, &cases, &selection).await?;
            store.insert_run(&record)?;
            let view = RunView::load(&store, Some(&record.run_id))?;
            print!("{}", render_table(&view));
            println!("\nstored run {} in {}", record.run_id, db.display());
            if let Some(path) = report {
                write_report(&view, &path)?;
            }
            Ok(())
        }
        Command::Report { db, run, out, table } => {
            if !db.is_file() {
                return Err(HostError::Invalid(format!("{} does not exist; run `accelerate bench` first", db.display())));
            }
            let store = Store::open(&db)?;
            let view = RunView::load(&store, run.as_deref())?;
            if table {
                print!("{}", render_table(&view));
            }
            write_report(&view, &out)
        }
        Command::Run { model, backend, head, texts } => {
            print!("{}", ipfs_accelerate_host::run_command::run(&model, &backend, &texts, head).await?);
            Ok(())
        }
        Command::Serve => {
            let server = RunnerServer::start(paths::wasm_pkg_dir()).await?;
            println!("runner at {} (Ctrl-C to stop)", server.url());
            let _ = tokio::signal::ctrl_c().await;
            Ok(())
        }
    }
}

fn warn(e: HostError) -> HostError {
    eprintln!("warning: browsers will not be probed: {e}");
    e
}

fn selection(backends: &[String], browsers: &[String]) -> Result<BackendSelection> {
    let known = ["native-cpu", "native-wgpu", "browser-cpu", "browser-webgpu"];
    if let Some(bad) = backends.iter().find(|b| !known.contains(&b.as_str())) {
        return Err(HostError::Invalid(format!("unknown backend {bad:?}; known: {}", known.join(", "))));
    }
    let has = |b: &str| backends.iter().any(|x| x == b);
    let browsers = browsers
        .iter()
        .filter(|b| !b.is_empty() && *b != "none")
        .map(|b| {
            BrowserKind::parse(b)
                .ok_or_else(|| HostError::Invalid(format!("unknown browser {b:?}; known: chromium, firefox, edge, safari")))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(BackendSelection {
        native_cpu: has("native-cpu"),
        native_wgpu: has("native-wgpu"),
        browsers,
        browser_cpu: has("browser-cpu"),
        browser_webgpu: has("browser-webgpu"),
    })
}

/// Write the report next to nothing half-done: a temp file renamed into place.
fn write_report(view: &RunView, path: &Path) -> Result<()> {
    use ipfs_accelerate_host::error::Context;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).context(format!("creating {}", parent.display()))?;
    }
    let tmp = path.with_extension("html.partial");
    std::fs::write(&tmp, render_html(view)).context(format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).context(format!("moving report into {}", path.display()))?;
    println!("report: {}", path.display());
    Ok(())
}
