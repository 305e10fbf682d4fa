//! Idempotent installation of everything the build, tests and demo need.

use crate::run::{cargo, command, version_of, workspace_root};
use std::ffi::OsStr;
use std::path::PathBuf;

/// Must equal the `wasm-bindgen` version pinned in the workspace Cargo.toml.
const WASM_BINDGEN_VERSION: &str = "0.2.130";
/// Prebuilt libduckdb 1.5.6 from the npm registry, matching crate duckdb =1.10506.0.
const DUCKDB_NPM_PACKAGE: &str = "@duckdb/node-bindings-linux-x64@1.5.6-r.1";
const DUCKDB_TARBALL: &str = "duckdb-node-bindings-linux-x64-1.5.6-r.1.tgz";
const DUCKDB_TARBALL_SHA256: &str = "1b9f82478539bb9a1d1df44bd103121a12ae52142c07158dc52b97d2ec1d69ff";
/// The nightly toolchain of the threaded wasm build (std rebuilt with atomics needs rust-src).
pub const NIGHTLY: &str = "nightly-2026-05-19";
/// cargo-fuzz for `cargo xtask fuzz` (built from crates.io with its own lockfile).
const CARGO_FUZZ_VERSION: &str = "0.13.1";
/// openjdk runs Selenium Grid (`accelerate grid up`); e2fsprogs' mkfs.ext4 makes the small
/// filesystem of `browser_full_disk` (Debian has it everywhere; named so the need is written down).
const APT_PACKAGES: [&str; 8] =
    ["chromium", "chromium-driver", "firefox-esr", "mesa-vulkan-drivers", "libvulkan1", "unzip", "openjdk-17-jre-headless", "e2fsprogs"];

pub fn setup() -> Result<(), String> {
    apt_packages()?;
    wasm_target()?;
    nightly_with_rust_src()?;
    wasm_bindgen_cli()?;
    cargo_fuzz()?;
    geckodriver()?;
    browser_user()?;
    libduckdb()?;
    crate::vendor::onnxruntime()?;
    crate::vendor::npm_packages()?;
    crate::examples::install_toolchain()?;
    crate::chromium_webnn::install()?;
    crate::selenium::install()?;
    crate::fixtures::install()?;
    println!("xtask: setup complete");
    Ok(())
}

fn cargo_bin(name: &str) -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo"));
    home.join("bin").join(name)
}

pub fn wasm_bindgen_bin() -> PathBuf {
    cargo_bin("wasm-bindgen")
}

fn apt_packages() -> Result<(), String> {
    let missing: Vec<&str> = APT_PACKAGES
        .iter()
        .copied()
        .filter(|p| {
            let out = std::process::Command::new("dpkg-query").args(["-W", "-f=${Status}", p]).output();
            !matches!(out, Ok(o) if String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let sudo: &[&str] = if is_root() { &[] } else { &["sudo"] };
    let mut update: Vec<&str> = sudo.to_vec();
    update.extend(["apt-get", "update", "-qq"]);
    run_list(&update)?;
    let mut install: Vec<&str> = sudo.to_vec();
    install.extend(["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-qq", "--no-install-recommends"]);
    install.extend(missing);
    run_list(&install)
}

fn run_list(parts: &[&str]) -> Result<(), String> {
    let args: Vec<&OsStr> = parts[1..].iter().map(OsStr::new).collect();
    command(OsStr::new(parts[0]), &args)
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false)
}

fn wasm_target() -> Result<(), String> {
    let out = std::process::Command::new("rustup").args(["target", "list", "--installed"]).output().map_err(|e| format!("rustup: {e}"))?;
    if String::from_utf8_lossy(&out.stdout).lines().any(|l| l.trim() == "wasm32-unknown-unknown") {
        return Ok(());
    }
    run_list(&["rustup", "target", "add", "wasm32-unknown-unknown"])
}

/// rustup checks every component against the channel manifest's sha256s.
fn nightly_with_rust_src() -> Result<(), String> {
    let toolchain = format!("+{NIGHTLY}");
    let out = std::process::Command::new("rustup").args([toolchain.as_str(), "component", "list", "--installed"]).output();
    if matches!(&out, Ok(o) if o.status.success() && String::from_utf8_lossy(&o.stdout).lines().any(|l| l.starts_with("rust-src"))) {
        return Ok(());
    }
    run_list(&["rustup", "toolchain", "install", NIGHTLY, "--profile", "minimal", "--component", "rust-src"])
}

fn wasm_bindgen_cli() -> Result<(), String> {
    let bin = wasm_bindgen_bin();
    if version_of(bin.as_os_str()).is_some_and(|v| v.ends_with(WASM_BINDGEN_VERSION)) {
        return Ok(());
    }
    // Not --locked: the CLI's own lockfile pins a yanked webpki-roots.
    cargo(&["install", "wasm-bindgen-cli", "--version", WASM_BINDGEN_VERSION, "--force"])
}

fn cargo_fuzz() -> Result<(), String> {
    let out = std::process::Command::new(cargo_bin("cargo-fuzz")).args(["fuzz", "--version"]).output();
    if matches!(&out, Ok(o) if String::from_utf8_lossy(&o.stdout).contains(CARGO_FUZZ_VERSION)) {
        return Ok(());
    }
    cargo(&["install", "cargo-fuzz", "--version", CARGO_FUZZ_VERSION, "--locked"])
}

fn geckodriver() -> Result<(), String> {
    if version_of(cargo_bin("geckodriver").as_os_str()).is_some() || version_of(OsStr::new("geckodriver")).is_some() {
        return Ok(());
    }
    cargo(&["install", "geckodriver", "--locked"])
}

/// The unprivileged account browsers run as when the host is root (see host/src/isolation),
/// and a copy of geckodriver it can run (~/.cargo/bin sits in a home it cannot enter).
fn browser_user() -> Result<(), String> {
    const USER: &str = "ipfs-accelerate-browser";
    let bin = workspace_root().join(".deps/bin");
    std::fs::create_dir_all(&bin).map_err(|e| format!("creating {}: {e}", bin.display()))?;
    let installed = cargo_bin("geckodriver");
    let copy = bin.join("geckodriver");
    if installed.is_file() && std::fs::read(&installed).ok() != std::fs::read(&copy).ok() {
        // Copied under a temporary name and renamed: a half-written driver is never found.
        let partial = bin.join("geckodriver.partial");
        std::fs::copy(&installed, &partial).map_err(|e| format!("copying geckodriver into {}: {e}", bin.display()))?;
        std::fs::rename(&partial, &copy).map_err(|e| format!("placing {}: {e}", copy.display()))?;
    }
    if !is_root() {
        println!("xtask: not root, so browsers will run as you (no {USER} account needed)");
        return Ok(());
    }
    let passwd = std::fs::read_to_string("/etc/passwd").map_err(|e| format!("reading /etc/passwd: {e}"))?;
    if passwd.lines().any(|l| l.split(':').next() == Some(USER)) {
        return Ok(());
    }
    run_list(&[
        "useradd",
        "--system",
        "--user-group",
        "--no-create-home",
        "--home-dir",
        "/nonexistent",
        "--shell",
        "/usr/sbin/nologin",
        USER,
    ])
}

/// libduckdb.so into .deps/duckdb, from the npm tarball after checking its sha256.
fn libduckdb() -> Result<(), String> {
    let dir = workspace_root().join(".deps/duckdb");
    if dir.join("libduckdb.so").is_file() {
        return Ok(());
    }
    let tarball = crate::run::npm_tarball(DUCKDB_NPM_PACKAGE, DUCKDB_TARBALL, DUCKDB_TARBALL_SHA256)?;
    // Extract into a staging dir and rename, so an interrupted setup leaves no partial library.
    let staging = workspace_root().join(".deps/duckdb.partial");
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(|e| format!("creating {}: {e}", staging.display()))?;
    command(
        OsStr::new("tar"),
        &[
            "xzf".as_ref(),
            tarball.as_os_str(),
            "-C".as_ref(),
            staging.as_os_str(),
            "--strip-components=1".as_ref(),
            "package/libduckdb.so".as_ref(),
        ],
    )?;
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::rename(&staging, &dir).map_err(|e| format!("moving libduckdb into {}: {e}", dir.display()))
}
