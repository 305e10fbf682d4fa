//! `accelerate manifest`: a model directory's manifest (each file's CID and size).

use crate::error::Context;
use crate::{HostError, Result};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// The model directory (its top-level files are listed).
    #[arg(long)]
    dir: PathBuf,
    /// Model name (default: the directory's name).
    #[arg(long)]
    name: Option<String>,
    /// Write `<dir>/manifest.json` instead of printing.
    #[arg(long)]
    write: bool,
}

pub fn run(Args { dir, name, write }: Args) -> Result<()> {
    let name = name.or_else(|| dir.file_name().map(|n| n.to_string_lossy().into_owned())).unwrap_or_default();
    let manifest = ipfs_accelerate::store::ModelManifest::for_dir(&name, &dir).map_err(|e| HostError::Invalid(e.to_string()))?;
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| HostError::Invalid(e.to_string()))?;
    if !write {
        println!("{text}");
        return Ok(());
    }
    let (tmp, path) = (dir.join("manifest.json.partial"), dir.join("manifest.json"));
    std::fs::write(&tmp, text).context(format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).context(format!("moving the manifest into {}", path.display()))?;
    println!("wrote {} ({} files)", path.display(), manifest.files.len());
    Ok(())
}
