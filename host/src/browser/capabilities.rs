//! WebDriver capabilities per browser: headless, fresh profile, GPU/ML features enabled.

use super::{chromium_webnn, BrowserKind};
use serde_json::{json, Map, Value};
use std::path::Path;

/// Chromium flags for automation on a closed network. Without the background-networking
/// flags Chromium keeps dialling Google services that this network refuses.
pub fn chromium_flags(profile: &Path) -> Vec<String> {
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

/// Capabilities and the human-readable flag list recorded with results.
pub fn build(kind: BrowserKind, binary: &Path, profile: &Path) -> (Map<String, Value>, Vec<String>) {
    let mut caps = Map::new();
    let flags = match kind {
        BrowserKind::Chromium | BrowserKind::Edge => {
            let flags = chromium_flags(profile);
            let key = if kind == BrowserKind::Edge { "ms:edgeOptions" } else { "goog:chromeOptions" };
            caps.insert(key.into(), json!({ "binary": binary.display().to_string(), "args": flags }));
            flags
        }
        BrowserKind::ChromiumWebnn => {
            let mut flags = chromium_flags(profile);
            for extra in chromium_webnn::EXTRA_FLAGS {
                if !flags.iter().any(|f| f == extra) {
                    flags.push(extra.into());
                }
            }
            caps.insert("browserName".into(), json!(chromium_webnn::BROWSER_NAME));
            caps.insert("goog:chromeOptions".into(), json!({ "binary": binary.display().to_string(), "args": flags }));
            flags
        }
        BrowserKind::Firefox => {
            let args = vec!["-headless".to_string(), "-profile".to_string(), profile.display().to_string()];
            let prefs = firefox_prefs();
            caps.insert("moz:firefoxOptions".into(), json!({ "binary": binary.display().to_string(), "args": args, "prefs": prefs }));
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
