//! `accelerate shard`: embed texts with all-MiniLM-L6-v2 split over several browser sessions.

use crate::bench::options::{parse_browser, DEFAULT_BROWSER};
use crate::server::RunnerServer;
use crate::shard::{balanced, ShardedModel};
use crate::{paths, HostError, Result};

#[derive(clap::Args)]
pub struct Args {
    /// Stages (browser sessions); the 6 layers are split evenly.
    #[arg(long, default_value_t = 2)]
    shards: usize,
    /// Browser for every stage.
    #[arg(long, default_value = DEFAULT_BROWSER.name())]
    browser: String,
    #[arg(long, default_value_t = 8)]
    head: usize,
    #[arg(required = true)]
    texts: Vec<String>,
}

pub async fn run(Args { shards, browser, head, texts }: Args) -> Result<()> {
    let kind = parse_browser(&browser)?;
    let install = crate::browser::detect_all()
        .into_iter()
        .find(|d| d.kind == kind)
        .and_then(|d| d.install.ok())
        .ok_or_else(|| HostError::Invalid(format!("{browser} is not installed")))?;
    let server = RunnerServer::start(paths::wasm_pkg_dir()).await?;
    let plan = balanced(&[1.0; 6], shards);
    println!("plan: {plan:?} (layers per stage)");
    let mut model = ShardedModel::start(&server, &install, "/models/all-minilm-l6-v2/", None, plan).await?;
    let run = model.embed(&texts).await;
    model.shutdown().await;
    let run = run?;
    for (text, e) in texts.iter().zip(&run.embeddings) {
        println!("{:?}: {:?}", text, &e[..head.min(e.len())]);
    }
    println!("{:.1} ms over {} stage(s)", run.latency_ms, shards.clamp(1, 6));
    Ok(())
}
