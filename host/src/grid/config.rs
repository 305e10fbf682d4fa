//! The TOML files the hub and each node start from: Selenium offline, no driver detection, no
//! Selenium Manager, one driver configuration per browser this machine has.

use crate::browser::{BrowserInstall, BrowserKind};

/// Seconds between the hub's checks of each node. Selenium's default (120 s) keeps a dead node
/// listed as up, and new sessions routed to it, for two minutes.
const HEALTH_CHECK_S: u32 = 5;
/// A session request no node can take fails after this many seconds instead of 300.
const SESSION_REQUEST_TIMEOUT_S: u32 = 60;

/// The hub on `port`, its event bus on the two ports below it (Selenium's own layout).
pub fn hub_toml(port: u16) -> String {
    format!(
        "[server]\nhost = \"127.0.0.1\"\nport = {port}\n\n[events]\npublish = \"tcp://127.0.0.1:{}\"\nsubscribe = \"tcp://127.0.0.1:{}\"\nbind = true\n\n\
         [distributor]\nhealthcheck-interval = {HEALTH_CHECK_S}\n\n[sessionqueue]\nsession-request-timeout = {SESSION_REQUEST_TIMEOUT_S}\n",
        port - 2,
        port - 1
    )
}

/// A node on `port` registering with the hub on `hub_port`, offering `per_browser` sessions of
/// each installed browser. Selenium caps a node at one session per CPU core unless told
/// otherwise: on a 2-core machine a node that must take over a dead node's sessions has to be
/// allowed more.
pub fn node_toml(port: u16, hub_port: u16, installs: &[BrowserInstall], per_browser: usize) -> String {
    let mut toml = format!(
        "[server]\nhost = \"127.0.0.1\"\nport = {port}\n\n[events]\npublish = \"tcp://127.0.0.1:{}\"\nsubscribe = \"tcp://127.0.0.1:{}\"\n\n\
         [node]\ndetect-drivers = false\nselenium-manager = false\nhub = \"http://127.0.0.1:{hub_port}\"\nmax-sessions = {}\noverride-max-sessions = true\nheartbeat-period = {HEALTH_CHECK_S}\n",
        hub_port - 2,
        hub_port - 1,
        per_browser * installs.len().max(1)
    );
    for install in installs {
        let browser_name = match install.kind {
            BrowserKind::Firefox => "firefox",
            _ => "chrome",
        };
        toml.push_str(&format!(
            "\n[[node.driver-configuration]]\ndisplay-name = \"{}\"\nwebdriver-executable = \"{}\"\nmax-sessions = {per_browser}\nstereotype = '{{\"browserName\": \"{browser_name}\"}}'\n",
            install.kind.name(),
            install.driver.display()
        ));
    }
    toml
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn nodes_name_every_driver_and_the_hubs_event_bus() {
        let install = |kind, driver: &str| BrowserInstall {
            kind,
            binary: PathBuf::from("/b"),
            driver: PathBuf::from(driver),
            version: String::new(),
            driver_args: vec![],
            driver_env: vec![],
        };
        let node = node_toml(
            5600,
            4444,
            &[install(BrowserKind::Chromium, "/usr/bin/chromedriver"), install(BrowserKind::Firefox, "/x/geckodriver")],
            2,
        );
        assert!(node.contains("port = 5600") && node.contains("hub = \"http://127.0.0.1:4444\""), "{node}");
        assert!(node.contains("publish = \"tcp://127.0.0.1:4442\"") && node.contains("subscribe = \"tcp://127.0.0.1:4443\""), "{node}");
        assert!(node.contains("detect-drivers = false") && node.contains("selenium-manager = false") && node.contains("max-sessions = 4"));
        assert!(node.contains("override-max-sessions = true"), "{node}");
        assert_eq!(node.matches("[[node.driver-configuration]]").count(), 2);
        assert!(
            node.contains("webdriver-executable = \"/x/geckodriver\"") && node.contains(r#"stereotype = '{"browserName": "firefox"}'"#)
        );
        assert!(hub_toml(4444).contains("bind = true") && hub_toml(4444).contains("healthcheck-interval = 5"));
    }
}
