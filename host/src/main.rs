//! `accelerate`: the native host CLI. Parsing and dispatch only: each subcommand's arguments
//! and work live in its module under `host/src/commands/`.

use clap::{Parser, Subcommand};
use ipfs_accelerate_host::commands::{bench, compare, doctor, examples, grid, manifest, pool, recommend, report, run, serve, shard};

#[derive(Parser)]
#[command(name = "accelerate", version, about = "Run, benchmark and compare ML kernels in real browsers and natively")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Start browser sessions on this WebDriver endpoint (a Selenium Grid hub, e.g. the one
    /// `accelerate grid up` starts) instead of local drivers; repeat to spread sessions over
    /// several. Also read from ACCELERATE_WEBDRIVER (comma-separated).
    #[arg(long, global = true, value_name = "URL")]
    webdriver: Vec<String>,
}

#[derive(Subcommand)]
enum Command {
    /// What this machine has: browsers, WebGPU/WebNN/wasm features, native GPU adapters, ONNX Runtime.
    Doctor(doctor::Args),
    /// Run benchmark suites on every available backend and store the results in DuckDB.
    Bench(bench::Args),
    /// Write a self-contained HTML report of a stored run (the newest by default).
    Report(report::Args),
    /// Compare two stored runs case by case on their raw samples; exit 1 when a case got
    /// slower (beyond the minimum effect and chance) or broke.
    Compare(compare::Args),
    /// Where to run a model (browser × backend × dtype) for a batch and length, from the
    /// measured history; unmeasured shapes are predicted, with their cross-validated error.
    Recommend(recommend::Args),
    /// Embed texts with one model on one native backend; print each embedding's head and the timing.
    Run(run::Args),
    /// Print (or write) the manifest of a model directory: each file's CID and size, for
    /// hosting the model where `acc.load(url)` can verify and cache it.
    Manifest(manifest::Args),
    /// Run embedding requests through a pool of real browser sessions (optionally killing
    /// browsers along the way); print throughput, per-session counts, recoveries; store the run.
    Pool(pool::Args),
    /// Embed texts with all-MiniLM-L6-v2 split over several browser sessions (layers in
    /// contiguous ranges, activations over loopback WebSockets); print the plan, heads, timing.
    Shard(shard::Args),
    /// A local Selenium Grid on loopback: `grid up [--nodes N]`, `grid status`, `grid down`.
    Grid(grid::Args),
    /// Use each example app (examples/, built by `cargo xtask build-examples`) in a headless
    /// browser as a person would; print what it showed and write a screenshot of each.
    Examples(examples::Args),
    /// Serve the runner page and wasm package on loopback until interrupted (for debugging).
    Serve,
}

#[tokio::main]
async fn main() {
    ipfs_accelerate_host::allocator::keep_freed_memory_for_reuse();
    let cli = Cli::parse();
    if let Err(e) = ipfs_accelerate_host::browser::use_webdriver_endpoints(cli.webdriver) {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
    let result = match cli.command {
        Command::Doctor(args) => doctor::run(args).await,
        Command::Bench(args) => bench::run(args).await,
        Command::Report(args) => report::run(args),
        Command::Compare(args) => match compare::run(args) {
            Ok(true) => std::process::exit(1),
            other => other.map(|_| ()),
        },
        Command::Recommend(args) => recommend::run(args),
        Command::Run(args) => run::run(args).await,
        Command::Manifest(args) => manifest::run(args),
        Command::Pool(args) => pool::run(args).await,
        Command::Shard(args) => shard::run(args).await,
        Command::Grid(args) => grid::run(args).await,
        Command::Examples(args) => examples::run(args).await,
        Command::Serve => serve::run().await,
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
