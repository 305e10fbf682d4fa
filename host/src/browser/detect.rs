//! Which browsers and WebDriver servers this machine has.

use super::BrowserKind;
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, Clone)]
pub struct BrowserInstall {
    pub kind: BrowserKind,
    pub binary: PathBuf,
    pub driver: PathBuf,
    pub version: String,
    /// Extra arguments for the WebDriver server.
    pub driver_args: Vec<String>,
    /// Extra environment for the WebDriver server (the browser it starts inherits it).
    pub driver_env: Vec<(String, String)>,
}

/// A browser found (with its driver), or why it is not usable here.
#[derive(Debug, Clone)]
pub struct Detection {
    pub kind: BrowserKind,
    pub install: Result<BrowserInstall, String>,
}

fn candidates(kind: BrowserKind) -> (&'static [&'static str], &'static [&'static str]) {
    match kind {
        BrowserKind::Chromium => (&["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"], &["chromedriver"]),
        // Found by its install directory instead (see `detect`).
        BrowserKind::ChromiumWebnn => (&[], &["chromedriver"]),
        BrowserKind::Firefox => (&["firefox-esr", "firefox"], &["geckodriver"]),
        BrowserKind::Edge => (&["microsoft-edge", "microsoft-edge-stable", "msedge"], &["msedgedriver"]),
        BrowserKind::Safari => (&["/Applications/Safari.app/Contents/MacOS/Safari"], &["safaridriver"]),
    }
}

pub fn detect_all() -> Vec<Detection> {
    BrowserKind::ALL.iter().map(|&kind| Detection { kind, install: detect(kind) }).collect()
}

pub fn detect(kind: BrowserKind) -> Result<BrowserInstall, String> {
    if kind == BrowserKind::ChromiumWebnn {
        return super::chromium_webnn::detect();
    }
    let (binaries, drivers) = candidates(kind);
    let binary = binaries
        .iter()
        .find_map(|b| find_executable(b))
        .ok_or_else(|| format!("no {} binary found (looked for {})", kind.name(), binaries.join(", ")))?;
    let driver = drivers
        .iter()
        .find_map(|d| find_executable(d))
        .ok_or_else(|| format!("{} found at {} but its WebDriver ({}) is missing", kind.name(), binary.display(), drivers.join(", ")))?;
    let version = Command::new(&binary)
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "unknown".into());
    Ok(BrowserInstall { kind, binary, driver, version, driver_args: Vec::new(), driver_env: Vec::new() })
}

/// An absolute path, or a name looked up on PATH and in ~/.cargo/bin (where geckodriver lands).
pub(super) fn find_executable(name: &str) -> Option<PathBuf> {
    let path = Path::new(name);
    if path.is_absolute() {
        return path.is_file().then(|| path.to_path_buf());
    }
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo").join("bin"));
    }
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}
