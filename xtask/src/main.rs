//! `cargo xtask <command>`: the project's own setup and automation (std only, so it builds
//! in seconds on a fresh machine).
//!
//! - `setup`       install what builds and tests need, model fixtures included (idempotent)
//! - `build-wasm`  build the SDK's four wasm builds (npm/pkg{,-relaxed,-threads,-threads-relaxed}) with their JS glue
//! - `build-examples` pack npm/ and build the example apps from the tarball (type-checked, bundled by Vite)
//! - `test`        setup + build-wasm + fmt/clippy + the whole test suite + every fuzz target briefly
//! - `fuzz [S]`    every fuzz target for S seconds each (default 20)
//! - `demo`        setup + builds + `accelerate doctor` + `accelerate examples` + `accelerate bench --quick`
//!   (`demo --full`: every backend of every suite)

mod chromium_webnn;
mod deps;
mod disk;
mod examples;
mod fixtures;
mod fuzz;
mod run;
mod selenium;
mod vendor;
mod wasm;

use run::cargo;
use std::ffi::OsStr;
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("setup") => deps::setup(),
        Some("build-wasm") => wasm::build(),
        Some("build-examples") => examples::build(),
        Some("test") => test(),
        Some("demo") => demo(&args[1..]),
        Some("fuzz") => match args.get(1).map(|s| s.parse::<u64>()) {
            None => fuzz::run(fuzz::CI_SECONDS),
            Some(Ok(seconds)) if seconds > 0 => fuzz::run(seconds),
            Some(_) => Err(format!("fuzz: {:?} is not a number of seconds (≥ 1)", args[1])),
        },
        _ => Err("usage: cargo xtask <setup|build-wasm|build-examples|test|demo|fuzz [seconds]>".to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn test() -> Result<(), String> {
    disk::prune_debug_builds(&run::target_dir())?;
    deps::setup()?;
    wasm::build()?;
    examples::build()?;
    cargo(&["fmt", "--all", "--", "--check"])?;
    cargo(&["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"])?;
    cargo(&["clippy", "-p", "ipfs-accelerate", "--target", "wasm32-unknown-unknown", "--", "-D", "warnings"])?;
    disk::check_room_for_profiles()?;
    cargo(&["test", "--workspace", "--no-fail-fast"])?;
    fuzz::run(fuzz::CI_SECONDS)
}

/// `--full` runs every backend of every suite; without it the benchmarks are the few-minute
/// tour (`accelerate bench --quick`). Other arguments go to `accelerate bench`.
fn demo(extra: &[String]) -> Result<(), String> {
    let started = Instant::now();
    deps::setup()?;
    wasm::build()?;
    examples::build()?;
    cargo(&["build", "--release", "-p", "ipfs-accelerate-host"])?;
    let built = Instant::now();
    let accelerate = run::target_dir().join("release/accelerate");
    run::command(accelerate.as_os_str(), &["doctor".as_ref()])?;
    // The example apps used in Chromium; screenshots in results/examples/.
    run::command(accelerate.as_os_str(), &["examples".as_ref()])?;
    // `--report` without a path: each suite's own report (results/report.html, results/minilm.html, …).
    let mut args = vec!["bench", "--suite", "kernels,minilm,cache,llm,vision,audio", "--db", "results/bench.duckdb", "--report"];
    let full = extra.iter().any(|a| a == "--full");
    if !full {
        args.push("--quick");
    }
    let mut bench: Vec<&OsStr> = args.into_iter().map(OsStr::new).collect();
    bench.extend(extra.iter().filter(|a| *a != "--full").map(OsStr::new));
    run::command(accelerate.as_os_str(), &bench)?;
    let minutes = |d: std::time::Duration| format!("{:.1} min", d.as_secs_f64() / 60.0);
    println!(
        "xtask: demo done in {}: setup and builds {}, doctor, examples and benchmarks {}{}",
        minutes(started.elapsed()),
        minutes(built - started),
        minutes(built.elapsed()),
        if full { "" } else { " (`cargo xtask demo --full` runs every backend of every suite)" }
    );
    Ok(())
}
