//! The WebNN-capable Chromium: the Chromium 153 headless shell from npm `@sparticuz/chromium`
//! (TFLite/XNNPACK WebNN backend), unpacked by `cargo xtask setup` into .deps/chromium-webnn.
//! It brings its own libraries (`lib/`, SwiftShader) and is driven by the system chromedriver,
//! which needs two concessions: `--disable-build-check` (the versions differ) and
//! `browserName: "chrome-headless-shell"` (without it chromedriver waits for a first page the
//! headless shell never opens: "unable to discover open pages").

use super::install::{find_executable, BrowserInstall};
use super::BrowserKind;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The browser binary inside the install directory.
const BINARY: &str = "chromium";
/// What chromedriver must be told the browser is.
pub const BROWSER_NAME: &str = "chrome-headless-shell";
/// Flags on top of the usual Chromium ones: the headless shell has no usable sandbox or zygote
/// here, and its bundled libraries are not set up for either.
pub const EXTRA_FLAGS: [&str; 2] = ["--no-sandbox", "--no-zygote"];

/// `.deps/chromium-webnn` in the workspace; `IPFS_ACCELERATE_CHROMIUM_WEBNN` overrides.
pub fn install_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("IPFS_ACCELERATE_CHROMIUM_WEBNN") {
        return PathBuf::from(dir);
    }
    crate::paths::deps_dir().join("chromium-webnn")
}

/// `<dir>/lib:<dir>` before whatever LD_LIBRARY_PATH already holds: the browser's own NSS and
/// SwiftShader libraries. Set on chromedriver, which passes it on to the browser.
fn library_path(dir: &Path) -> String {
    let mut parts = vec![dir.join("lib").display().to_string(), dir.display().to_string()];
    if let Some(old) = std::env::var_os("LD_LIBRARY_PATH").filter(|v| !v.is_empty()) {
        parts.push(old.to_string_lossy().into_owned());
    }
    parts.join(":")
}

pub fn detect() -> Result<BrowserInstall, String> {
    let dir = install_dir();
    let binary = dir.join(BINARY);
    if !binary.is_file() {
        return Err(format!("not installed: {} is missing (`cargo xtask setup` unpacks it there)", binary.display()));
    }
    let driver = find_executable("chromedriver")
        .ok_or_else(|| format!("{} found but chromedriver (Debian chromium-driver) is missing", binary.display()))?;
    let env = vec![("LD_LIBRARY_PATH".to_string(), library_path(&dir))];
    let version = Command::new(&binary)
        .arg("--version")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .map_err(|e| format!("{} does not start: {e}", binary.display()))?;
    if !version.status.success() {
        let stderr = String::from_utf8_lossy(&version.stderr);
        return Err(format!("{} --version failed ({}): {}", binary.display(), version.status, stderr.trim()));
    }
    Ok(BrowserInstall {
        kind: BrowserKind::ChromiumWebnn,
        binary,
        driver,
        version: String::from_utf8_lossy(&version.stdout).trim().to_string(),
        driver_args: vec!["--disable-build-check".into()],
        driver_env: env,
    })
}
