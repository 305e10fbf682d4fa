//! The subcommands of `accelerate`, one module each: its clap arguments (`Args`) and its `run`.
//! `main.rs` only parses the command line and dispatches here.

pub mod bench;
pub mod compare;
pub mod doctor;
pub mod embed;
pub mod examples;
pub mod generate;
pub mod grid;
pub mod hear;
pub mod manifest;
pub mod pool;
pub mod recommend;
pub mod report;
pub mod run;
pub mod see;
pub mod serve;
pub mod shard;

/// The command line as typed, stored with each run.
fn command_line() -> String {
    std::env::args().collect::<Vec<_>>().join(" ")
}

/// Said after an adapter's name when it is a CPU emulation of a GPU.
fn software_flag(adapter: &ipfs_accelerate::AdapterSummary) -> &'static str {
    if adapter.software {
        " [software adapter: CPU-emulated GPU, not a GPU figure]"
    } else {
        ""
    }
}
