//! The SDK's wasm builds, each with its wasm-bindgen JS glue in `npm/<dir>/`. The page's engine
//! (npm/engine.js) loads the best one the browser validates:
//! - `pkg/`: SIMD, one thread (the stable toolchain; flags in .cargo/config.toml);
//! - `pkg-relaxed/`: + relaxed SIMD (fused multiply-add in the kernels);
//! - `pkg-threads/`: SIMD over a pool of Web Workers sharing the memory; shared memory needs
//!   std rebuilt with atomics, so the pinned nightly and `-Z build-std`;
//! - `pkg-threads-relaxed/`: both.

use crate::deps::{wasm_bindgen_bin, NIGHTLY};
use crate::run::{cargo, command, command_with_env, target_dir, workspace_root};
use std::ffi::OsStr;
use std::path::Path;

/// What every build's RUSTFLAGS start with (RUSTFLAGS replaces the config's flags).
const BASE_RUSTFLAGS: &str = "--cfg getrandom_backend=\"wasm_js\" -C target-feature=+simd128";
/// The threaded builds: atomics, and the linker makes the memory shared and imported (every
/// worker instantiates the module over the same memory), with its maximum (the whole 4 GiB)
/// declared up front as shared memories must, exporting the thread-local storage hooks
/// wasm-bindgen's thread start-up calls.
const THREADS_RUSTFLAGS: &str = "-C target-feature=+atomics,+bulk-memory,+mutable-globals \
     -C link-arg=--shared-memory -C link-arg=--import-memory -C link-arg=--max-memory=4294967296 \
     -C link-arg=--export=__wasm_init_tls -C link-arg=--export=__tls_size \
     -C link-arg=--export=__tls_align -C link-arg=--export=__tls_base";
const RELAXED_RUSTFLAGS: &str = "-C target-feature=+relaxed-simd";

struct Build {
    dir: &'static str,
    threads: bool,
    relaxed: bool,
}

const BUILDS: [Build; 4] = [
    Build { dir: "pkg", threads: false, relaxed: false },
    Build { dir: "pkg-relaxed", threads: false, relaxed: true },
    Build { dir: "pkg-threads", threads: true, relaxed: false },
    Build { dir: "pkg-threads-relaxed", threads: true, relaxed: true },
];

pub fn build() -> Result<(), String> {
    for b in &BUILDS {
        build_one(b)?;
    }
    Ok(())
}

fn build_one(b: &Build) -> Result<(), String> {
    let out = workspace_root().join("npm").join(b.dir);
    if !b.threads && !b.relaxed {
        cargo(&["build", "-p", "ipfs-accelerate", "--target", "wasm32-unknown-unknown", "--release"])?;
        return bindgen(&target_dir().join("wasm32-unknown-unknown/release/ipfs_accelerate.wasm"), &out);
    }
    // Each its own target dir: other flags (and another toolchain) would rebuild the others.
    let build_target = target_dir().join(format!("wasm-{}", b.dir));
    let mut flags = BASE_RUSTFLAGS.to_string();
    let mut args: Vec<String> = Vec::new();
    if b.threads {
        flags = format!("{flags} {THREADS_RUSTFLAGS}");
        args.extend([format!("+{NIGHTLY}")]);
    }
    if b.relaxed {
        flags = format!("{flags} {RELAXED_RUSTFLAGS}");
    }
    args.extend(["build", "-p", "ipfs-accelerate", "--target", "wasm32-unknown-unknown", "--release"].map(String::from));
    if b.threads {
        args.extend(["--features", "threads", "-Z", "build-std=panic_abort,std"].map(String::from));
    }
    args.push("--target-dir".into());
    let mut args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    args.push(build_target.as_os_str());
    command_with_env(OsStr::new("cargo"), &args, &[("RUSTFLAGS", &flags)])?;
    bindgen(&build_target.join("wasm32-unknown-unknown/release/ipfs_accelerate.wasm"), &out)
}

fn bindgen(wasm: &Path, out: &Path) -> Result<(), String> {
    command(
        wasm_bindgen_bin().as_os_str(),
        &["--target".as_ref(), "web".as_ref(), "--out-dir".as_ref(), out.as_os_str(), wasm.as_os_str()],
    )?;
    println!("xtask: wasm package in {}", out.display());
    Ok(())
}
