//! `accelerate pool`: embedding requests through a pool of real browser sessions, optionally
//! killing browsers along the way; the run is stored.

use crate::bench::options::{browsers_or, parse_browser, DEFAULT_BROWSER};
use crate::bench::{self, record::EnvRecord};
use crate::pool::{drive, BrowserPool, EmbedRequest, Faults, Placement, PoolConfig};
use crate::server::RunnerServer;
use crate::store::Store;
use crate::{paths, HostError, Result};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Browser sessions, one per entry, e.g. chromium,chromium,firefox (default: 2 × chromium).
    #[arg(long, value_delimiter = ',')]
    browsers: Vec<String>,
    #[arg(long, default_value_t = 32)]
    requests: usize,
    /// Requests in flight at once (default: 2 per session).
    #[arg(long)]
    in_flight: Option<usize>,
    /// Kill a browser (sessions in turn) after every N completed requests.
    #[arg(long)]
    kill_every: Option<usize>,
    /// Preferred browser per model type, e.g. text-embedding=firefox (beats measured history).
    #[arg(long, value_delimiter = ',')]
    prefer: Vec<String>,
    /// The text each request embeds (all-MiniLM-L6-v2).
    #[arg(long, default_value = "The quick brown fox jumps over the lazy dog.")]
    text: String,
    #[arg(long, default_value_os_t = paths::default_db())]
    db: PathBuf,
}

pub async fn run(Args { browsers, requests, in_flight, kill_every, prefer, text, db }: Args) -> Result<()> {
    let kinds = browsers_or(&browsers, &[DEFAULT_BROWSER; 2])?;
    if kinds.is_empty() {
        return Err(HostError::Invalid("--browsers: the pool needs at least one browser session (`none` leaves none)".into()));
    }
    let faults = kill_every.map(|every| Faults::every(every, requests)).transpose()?;
    let mut placement = Placement::default();
    for p in &prefer {
        let (model_type, browser) =
            p.split_once('=').ok_or_else(|| HostError::Invalid(format!("--prefer {p:?}: expected TYPE=BROWSER")))?;
        placement.preferences.insert(model_type.into(), parse_browser(browser)?);
    }
    // Measured history: which browser ran this model fastest in earlier minilm benchmarks.
    let history = Store::open(&db)?.browser_history("minilm", "b1×short", "browser-cpu")?;
    let placement = placement.with_history(&history);
    println!("placement: preferences {:?}, browsers by measured speed {:?}", placement.preferences, placement.history);
    let command = super::command_line();
    let started = bench::epoch_seconds();
    let server = RunnerServer::start(paths::wasm_pkg_dir()).await?;
    let pool = BrowserPool::start(PoolConfig { browsers: kinds.clone(), placement, ..PoolConfig::default() }, &server.url()).await?;
    let request = EmbedRequest::new("/models/all-minilm-l6-v2/", vec![text]);
    let report = drive(&pool, &request, requests, in_flight.unwrap_or(2 * kinds.len()), faults).await;
    for slot in pool.slots() {
        let h = slot.health().clone();
        let node = slot.node().map(|n| format!(" on grid node {n}")).unwrap_or_default();
        println!(
            "session {} ({}){node}: served {}, failures {}, restarts {}",
            slot.id,
            slot.kind.name(),
            slot.served.load(std::sync::atomic::Ordering::SeqCst),
            h.failures,
            h.restarts
        );
    }
    for node in pool.node_trips() {
        println!("grid node {node} stopped answering: its sessions were moved to the others");
    }
    println!(
        "{}/{} requests completed in {:.0} ms ({:.1} req/s); {} kills, recoveries {:?} ms",
        report.completed.len(),
        report.completed.len() + report.failed.len(),
        report.wall_ms,
        report.requests_per_second(),
        report.kills,
        report.recoveries_ms.iter().map(|r| r.round()).collect::<Vec<_>>()
    );
    for e in &report.failed {
        println!("failed: {e}");
    }
    pool.shutdown().await;
    let shape = format!("{} requests over {} session(s)", requests, kinds.len());
    let names: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
    let case = bench::pool::drive_case(&shape, &report, serde_json::json!({ "browsers": names }));
    let adapter =
        ipfs_accelerate::AdapterSummary { name: "pool of headless browser sessions".into(), backend: "cpu".into(), ..Default::default() };
    let mut env = EnvRecord::new("browser-cpu", adapter, vec![case]);
    env.browser = Some(kinds[0].name().into());
    let record = bench::pool::pool_run_record(&command, started, env);
    let mut store = Store::open(&db)?;
    store.insert_run(&record)?;
    println!("stored run {} in {}", record.run_id, db.display());
    Ok(())
}
