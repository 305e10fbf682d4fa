//! The SDK's wasm builds, each with its wasm-bindgen JS glue:
//! - `npm/pkg/`: SIMD, one thread (stable toolchain; flags in .cargo/config.toml);
//! - `npm/pkg-threads/`: SIMD with a pool of Web Workers sharing memory. Shared memory needs
//!   std rebuilt with atomics, so this one uses the pinned nightly and `-Z build-std`.

use crate::deps::{wasm_bindgen_bin, NIGHTLY};
use crate::run::{cargo, command, command_with_env, target_dir, workspace_root};
use std::ffi::OsStr;
use std::path::Path;

/// Target features and linker flags of the threaded build (in full: RUSTFLAGS replaces the
/// config's). The linker makes the memory shared and imported (every worker instantiates the
/// module over the same memory), with a maximum (the whole 4 GiB wasm32 space) declared up
/// front as shared memories must, and exports the thread-local storage hooks wasm-bindgen's
/// thread start-up calls.
const THREADS_RUSTFLAGS: &str = "-C target-feature=+atomics,+bulk-memory,+mutable-globals,+simd128 \
     --cfg getrandom_backend=\"wasm_js\" \
     -C link-arg=--shared-memory -C link-arg=--import-memory -C link-arg=--max-memory=4294967296 \
     -C link-arg=--export=__wasm_init_tls -C link-arg=--export=__tls_size \
     -C link-arg=--export=__tls_align -C link-arg=--export=__tls_base";

pub fn build() -> Result<(), String> {
    let root = workspace_root();
    cargo(&["build", "-p", "ipfs-accelerate", "--target", "wasm32-unknown-unknown", "--release"])?;
    bindgen(&target_dir().join("wasm32-unknown-unknown/release/ipfs_accelerate.wasm"), &root.join("npm/pkg"))?;

    // Its own target dir: other flags and another toolchain would otherwise rebuild the first.
    let threads_target = target_dir().join("wasm-threads");
    let toolchain = format!("+{NIGHTLY}");
    let args = [
        toolchain.as_str(),
        "build",
        "-p",
        "ipfs-accelerate",
        "--features",
        "threads",
        "--target",
        "wasm32-unknown-unknown",
        "--release",
        "-Z",
        "build-std=panic_abort,std",
        "--target-dir",
    ];
    let mut args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    args.push(threads_target.as_os_str());
    command_with_env(OsStr::new("cargo"), &args, &[("RUSTFLAGS", THREADS_RUSTFLAGS)])?;
    bindgen(&threads_target.join("wasm32-unknown-unknown/release/ipfs_accelerate.wasm"), &root.join("npm/pkg-threads"))
}

fn bindgen(wasm: &Path, out: &Path) -> Result<(), String> {
    command(
        wasm_bindgen_bin().as_os_str(),
        &["--target".as_ref(), "web".as_ref(), "--out-dir".as_ref(), out.as_os_str(), wasm.as_os_str()],
    )?;
    println!("xtask: wasm package in {}", out.display());
    Ok(())
}
