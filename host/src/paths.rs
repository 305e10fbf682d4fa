//! Where the host finds the built wasm package and puts its results.

use std::path::PathBuf;

/// The wasm-bindgen output (`npm/pkg`), overridable with `IPFS_ACCELERATE_PKG`.
pub fn wasm_pkg_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("IPFS_ACCELERATE_PKG") {
        return PathBuf::from(dir);
    }
    workspace_root().join("npm").join("pkg")
}

/// Real model fixtures installed by `cargo xtask setup` (`$IPFS_ACCELERATE_MODELS` overrides).
pub fn model_cache() -> PathBuf {
    ipfs_accelerate::weights::model_cache_dir()
}

/// npm packages for in-browser comparisons (onnxruntime-web, transformers.js), unpacked by
/// `cargo xtask setup`; `IPFS_ACCELERATE_VENDOR` overrides.
pub fn vendor_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("IPFS_ACCELERATE_VENDOR") {
        return PathBuf::from(dir);
    }
    workspace_root().join(".deps").join("js")
}

/// Default DuckDB file for benchmark results.
pub fn default_db() -> PathBuf {
    PathBuf::from("results").join("bench.duckdb")
}

fn workspace_root() -> PathBuf {
    // The binary is normally run from the workspace; fall back to the source location.
    let here = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    if here.join("npm").is_dir() && here.join("host").is_dir() {
        return here;
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}
