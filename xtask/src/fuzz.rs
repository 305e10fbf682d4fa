//! `cargo xtask fuzz [SECONDS]`: every fuzz target in `fuzz/` (the readers of untrusted bytes)
//! for SECONDS each (default 20, what `cargo xtask test` runs), with the pinned nightly and
//! cargo-fuzz's sanitizers. The committed corpus (`fuzz/corpus/<target>`) is read, never
//! written: new inputs and crash artifacts go under the target directory, so a run leaves the
//! checkout clean. A longer run: `cargo xtask fuzz 3600`.

use crate::deps::NIGHTLY;
use crate::run::{command, target_dir};
use std::ffi::OsStr;

const TARGETS: [&str; 8] = ["safetensors", "gguf", "onnx", "configs", "manifest", "activations", "ctranslate2", "wav"];
pub const CI_SECONDS: u64 = 20;

pub fn run(seconds: u64) -> Result<(), String> {
    let dir = target_dir().join("fuzz");
    for target in TARGETS {
        let scratch = dir.join("corpus").join(target);
        let artifacts = dir.join("artifacts").join(target);
        for d in [&scratch, &artifacts] {
            std::fs::create_dir_all(d).map_err(|e| format!("creating {}: {e}", d.display()))?;
        }
        let committed = format!("fuzz/corpus/{target}");
        let (time, prefix) = (format!("-max_total_time={seconds}"), format!("-artifact_prefix={}/", artifacts.display()));
        let args: [&OsStr; 17] = [
            "run".as_ref(),
            NIGHTLY.as_ref(),
            "cargo".as_ref(),
            "fuzz".as_ref(),
            "run".as_ref(),
            "--fuzz-dir".as_ref(),
            "fuzz".as_ref(),
            "--target-dir".as_ref(),
            dir.as_os_str(),
            target.as_ref(),
            scratch.as_os_str(),
            committed.as_ref(),
            "--".as_ref(),
            time.as_ref(),
            prefix.as_ref(),
            // One input may take at most this long (a hang is a bug too).
            "-timeout=10".as_ref(),
            "-rss_limit_mb=2048".as_ref(),
        ];
        command(OsStr::new("rustup"), &args)
            .map_err(|e| format!("fuzz target {target}: {e} (a crashing input is in {})", artifacts.display()))?;
    }
    Ok(())
}
