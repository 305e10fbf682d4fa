//! Which browsers and WebDriver servers this machine has.

use super::install::{find_executable, BrowserInstall};
use super::BrowserKind;
use std::process::Command;

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
