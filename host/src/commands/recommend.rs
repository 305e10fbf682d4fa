//! `accelerate recommend --model M [--batch B --seq S]`: where to run a model, from the
//! measured history; every figure printed with where it comes from.

use super::report::existing_store;
use crate::analysis::recommend::{recommend, Estimate};
use crate::{paths, HostError, Result};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// The model as the bench suites name it (minilm, minilm-int8, minilm-l3).
    #[arg(long)]
    model: String,
    /// Sequences per call.
    #[arg(long, default_value_t = 1)]
    batch: usize,
    /// Tokens per sequence (padded length, [CLS] and [SEP] included).
    #[arg(long, default_value_t = 128)]
    seq: usize,
    #[arg(long, default_value_os_t = paths::default_db())]
    db: PathBuf,
}

pub fn run(Args { model, batch, seq, db }: Args) -> Result<()> {
    if batch == 0 || seq == 0 {
        return Err(HostError::Invalid(format!("--batch and --seq must be at least 1 (got {batch} and {seq})")));
    }
    let history = existing_store(&db)?.history(None)?;
    let rec = recommend(&history, &model, batch, seq);
    if rec.ranked.is_empty() {
        let mut known: Vec<&str> = history.iter().filter(|r| r.params["batch"].as_u64().is_some()).map(|r| r.key.kernel.as_str()).collect();
        known.sort();
        known.dedup();
        return Err(HostError::Invalid(format!(
            "no stored result for model {model:?}; models with history: {}",
            if known.is_empty() { "none (run `accelerate bench --suite minilm`)".to_string() } else { known.join(", ") }
        )));
    }
    println!("{model}, batch {batch} × {seq} tokens");
    for (i, r) in rec.ranked.iter().enumerate() {
        let ms = r.estimate.ms().map(|m| format!("{m:>10.2} ms")).unwrap_or_else(|| format!("{:>13}", "-"));
        let marker = if rec.pick.as_ref().is_some_and(|(p, _)| *p == i) { "*" } else { " " };
        let software = if r.software_adapter { " [software adapter: CPU-emulated GPU, never picked]" } else { "" };
        let accuracy = r.accuracy.map(|a| format!(", accuracy {a:.1e}")).unwrap_or_default();
        println!("{marker} {:<48} {ms}  {}{accuracy}{software}", r.placement.label(), r.estimate.provenance());
    }
    match rec.pick {
        Some((i, why)) => {
            let kind = if matches!(rec.ranked[i].estimate, Estimate::Measured { .. }) { "measured" } else { "predicted" };
            println!("\nrecommended ({kind}): {}\nwhy: {why}", rec.ranked[i].placement.label());
        }
        None => println!("\nno recommendation: nothing has been measured at or can be predicted for this shape"),
    }
    Ok(())
}
