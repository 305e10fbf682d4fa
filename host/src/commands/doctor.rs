//! `accelerate doctor`: what this machine has.

use crate::server::RunnerServer;
use crate::{doctor, paths, HostError, Result};

#[derive(clap::Args)]
pub struct Args {
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Only look for browsers; do not launch them.
    #[arg(long)]
    no_launch: bool,
}

pub async fn run(Args { json, no_launch }: Args) -> Result<()> {
    let server = if no_launch { None } else { RunnerServer::start(paths::wasm_pkg_dir()).await.map_err(warn).ok() };
    let report = doctor::collect(server.as_ref().map(|s| s.url()).as_deref()).await;
    if json {
        println!("{}", serde_json::to_string_pretty(&report).map_err(|e| HostError::Invalid(e.to_string()))?);
    } else {
        print!("{}", report.render());
    }
    Ok(())
}

fn warn(e: HostError) -> HostError {
    eprintln!("warning: browsers will not be probed: {e}");
    e
}
