//! `accelerate grid up|status|down`: a local Selenium Grid (hub + N nodes on loopback) for
//! `--webdriver http://127.0.0.1:PORT`.

use crate::grid;
use crate::{HostError, Result};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Start a hub and N nodes; returns when every node is registered.
    Up {
        #[arg(long, default_value_t = 2)]
        nodes: usize,
        /// The hub's port; its event bus takes the two ports below.
        #[arg(long, default_value_t = 4444)]
        port: u16,
        /// Sessions each node offers per browser.
        #[arg(long, default_value_t = 2)]
        sessions: usize,
    },
    /// The hub's view: each node, its availability and sessions in use.
    Status,
    /// Stop the hub and nodes (with every driver and browser they started).
    Down,
}

pub async fn run(Args { action }: Args) -> Result<()> {
    match action {
        Action::Up { nodes, port, sessions } => {
            let state = grid::up(port, nodes, sessions).await?;
            println!("grid up: hub {} with {} node(s): {}", state.hub_url, state.nodes.len(), node_list(&state));
            println!("use it with --webdriver {}", state.hub_url);
            Ok(())
        }
        Action::Status => {
            let state = grid::current()?.ok_or_else(|| HostError::Invalid("no grid is running (`accelerate grid up`)".into()))?;
            let status = grid::status(&state.hub_url).await?;
            println!("hub {} ready: {}", state.hub_url, status["value"]["ready"]);
            for node in status["value"]["nodes"].as_array().into_iter().flatten() {
                let slots = node["slots"].as_array().map_or(0, Vec::len);
                let busy = node["slots"].as_array().map_or(0, |s| s.iter().filter(|s| !s["session"].is_null()).count());
                println!(
                    "  node {} {}: {busy}/{slots} slots in use",
                    node["uri"].as_str().unwrap_or("?"),
                    node["availability"].as_str().unwrap_or("?")
                );
            }
            Ok(())
        }
        Action::Down => {
            match grid::down()? {
                Some(state) => println!("grid down: stopped the hub at {} and {} node(s)", state.hub_url, state.nodes.len()),
                None => println!("no grid was running"),
            }
            Ok(())
        }
    }
}

fn node_list(state: &grid::GridState) -> String {
    state.nodes.iter().map(|n| n.url.as_str()).collect::<Vec<_>>().join(", ")
}
