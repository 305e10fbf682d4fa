//! WebDriver capabilities per browser: headless, fresh profile, GPU/ML features enabled.

use super::{chromium_webnn, BrowserKind};
use serde_json::{json, Map, Value};
use std::path::Path;

/// Chromium flags for automation on a closed network. Without the background-networking
/// flags Chromium keeps dialling Google services that this network refuses. `profile` is the
/// local profile directory; None for a browser a remote endpoint starts (its driver makes one).
pub fn chromium_flags(profile: Option<&Path>) -> Vec<String> {
    let mut flags: Vec<String> = [
        "--headless=new",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--no-first-run",
        "--no-default-browser-check",
        "--enable-unsafe-webgpu",
        "--enable-features=WebMachineLearningNeuralNetwork",
        // chromedriver talks DevTools over a pipe: no port for anyone else to find.
        "--remote-debugging-pipe",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let Some(profile) = profile else { return flags };
    if crate::isolation::running_as_root() && crate::isolation::jail().is_err() {
        // Chromium refuses to start its sandbox as root; jailed, it runs as the browser user.
        flags.push("--no-sandbox".into());
    }
    flags.push(format!("--user-data-dir={}", profile.display()));
    flags
}

pub fn firefox_prefs() -> Value {
    json!({
        "dom.webgpu.enabled": true,
        "gfx.webgpu.ignore-blocklist": true,
        "dom.webgpu.workers.enabled": true,
        "browser.shell.checkDefaultBrowser": false,
        "datareporting.policy.dataSubmissionEnabled": false,
        "toolkit.telemetry.enabled": false,
        "app.update.enabled": false,
    })
}

/// Capabilities and the human-readable flag list recorded with results, for a local driver
/// (`profile`: the session's directory) or a remote endpoint (None: `browserName` for the
/// grid to match, no profile; `binary` empty when the host has no local install to name).
pub fn build(kind: BrowserKind, binary: &Path, profile: Option<&Path>) -> (Map<String, Value>, Vec<String>) {
    let mut caps = Map::new();
    if profile.is_none() {
        let name = match kind {
            BrowserKind::Chromium | BrowserKind::ChromiumWebnn => "chrome",
            BrowserKind::Firefox => "firefox",
            BrowserKind::Edge => "MicrosoftEdge",
            BrowserKind::Safari => "safari",
        };
        caps.insert("browserName".into(), json!(name));
    }
    let options = |args: &[String]| {
        let mut o = json!({ "args": args });
        if !binary.as_os_str().is_empty() {
            o["binary"] = json!(binary.display().to_string());
        }
        o
    };
    let flags = match kind {
        BrowserKind::Chromium | BrowserKind::Edge => {
            let flags = chromium_flags(profile);
            let key = if kind == BrowserKind::Edge { "ms:edgeOptions" } else { "goog:chromeOptions" };
            caps.insert(key.into(), options(&flags));
            flags
        }
        BrowserKind::ChromiumWebnn => {
            let mut flags = chromium_flags(profile);
            for extra in chromium_webnn::EXTRA_FLAGS {
                if !flags.iter().any(|f| f == extra) {
                    flags.push(extra.into());
                }
            }
            if profile.is_some() {
                caps.insert("browserName".into(), json!(chromium_webnn::BROWSER_NAME));
            }
            caps.insert("goog:chromeOptions".into(), options(&flags));
            flags
        }
        BrowserKind::Firefox => {
            let mut args = vec!["-headless".to_string()];
            if let Some(profile) = profile {
                args.extend(["-profile".to_string(), profile.display().to_string()]);
            }
            let prefs = firefox_prefs();
            let mut o = options(&args);
            o["prefs"] = prefs.clone();
            caps.insert("moz:firefoxOptions".into(), o);
            let mut flags = args;
            if let Value::Object(p) = prefs {
                flags.extend(p.iter().map(|(k, v)| format!("{k}={v}")));
            }
            flags
        }
        BrowserKind::Safari => Vec::new(),
    };
    (caps, flags)
}
