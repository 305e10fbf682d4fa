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
    deps_dir().join("js")
}

/// The example apps built from the packed npm tarball by `cargo xtask build-examples`
/// (`<app>/dist`).
pub fn example_apps_dir() -> PathBuf {
    deps_dir().join("examples-build")
}

/// Where `cargo xtask setup` installs third-party runtimes (`.deps` in the workspace).
pub fn deps_dir() -> PathBuf {
    workspace_root().join(".deps")
}

/// Default DuckDB file for benchmark results.
pub fn default_db() -> PathBuf {
    PathBuf::from("results").join("bench.duckdb")
}

fn workspace_root() -> PathBuf {
    // Under `cargo run`/`cargo test`, cargo says where the package is at run time (the path
    // baked in at compile time may be another clone's when a target dir is shared). Otherwise
    // the binary is normally run from the workspace; the source location is the last resort.
    if let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from).and_then(|d| d.parent().map(PathBuf::from)) {
        if dir.join("npm").is_dir() && dir.join("host").is_dir() {
            return dir;
        }
    }
    let here = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    if let Some(dir) = here.ancestors().find(|d| d.join("npm").is_dir() && d.join("host").is_dir()) {
        return dir.to_path_buf();
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}
