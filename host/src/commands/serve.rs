//! `accelerate serve`: the runner page and wasm package on loopback until interrupted.

use crate::server::RunnerServer;
use crate::{paths, Result};

pub async fn run() -> Result<()> {
    let server = RunnerServer::start(paths::wasm_pkg_dir()).await?;
    println!("runner at {} (Ctrl-C to stop)", server.url());
    let _ = tokio::signal::ctrl_c().await;
    Ok(())
}
