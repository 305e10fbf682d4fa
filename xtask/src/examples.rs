//! The example apps in examples/<app>/: their pinned build tools (examples/toolchain's lock,
//! installed by `npm ci` into .deps/examples-toolchain; npm checks every package's integrity
//! hash), and each app built from the packed npm tarball into .deps/examples-build/<app>/dist,
//! where the browser tests serve it (examples/toolchain/build.mjs does the building).

use crate::run::{command, workspace_root};
use crate::vendor::{create_dir, promote};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

fn toolchain_dir() -> PathBuf {
    workspace_root().join(".deps/examples-toolchain")
}

/// The lock an installed toolchain was made from, kept beside it: a changed lock reinstalls.
const INSTALLED_LOCK: &str = "installed-package-lock.json";

pub fn install_toolchain() -> Result<(), String> {
    let source = workspace_root().join("examples/toolchain");
    let lock = read(&source.join("package-lock.json"))?;
    let dest = toolchain_dir();
    if std::fs::read(dest.join(INSTALLED_LOCK)).is_ok_and(|installed| installed == lock) {
        return Ok(());
    }
    let staging = workspace_root().join(".deps/examples-toolchain.partial");
    let _ = std::fs::remove_dir_all(&staging);
    create_dir(&staging)?;
    for file in ["package.json", "package-lock.json"] {
        std::fs::copy(source.join(file), staging.join(file)).map_err(|e| format!("copying examples/toolchain/{file}: {e}"))?;
    }
    // No install scripts: every package here ships what it runs (native parts as packages).
    let args = ["ci", "--no-audit", "--no-fund", "--ignore-scripts", "--prefix"];
    let args: Vec<&OsStr> = args.iter().map(OsStr::new).chain([staging.as_os_str()]).collect();
    command(OsStr::new("npm"), &args)?;
    std::fs::write(staging.join(INSTALLED_LOCK), &lock).map_err(|e| format!("writing {INSTALLED_LOCK}: {e}"))?;
    promote(&staging, &dest)
}

fn read(file: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(file).map_err(|e| format!("reading {}: {e}", file.display()))
}

/// Pack npm/ and build every example app from the tarball (needs `build-wasm` first).
pub fn build() -> Result<(), String> {
    let script = workspace_root().join("examples/toolchain/build.mjs");
    let out = workspace_root().join(".deps/examples-build");
    command(OsStr::new("node"), &[script.as_os_str(), toolchain_dir().as_os_str(), out.as_os_str()])
}
