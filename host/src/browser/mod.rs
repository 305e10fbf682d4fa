//! Real browsers over WebDriver: finding them, launching them with fresh profiles, and
//! calling into the SDK page they load.

mod capabilities;
mod chromium_webnn;
mod detect;
mod driver;
mod install;
mod remote;
mod session;

pub use chromium_webnn::install_dir as chromium_webnn_dir;
pub use detect::{detect, detect_all, Detection};
pub use install::BrowserInstall;
pub use remote::{endpoints as webdriver_endpoints, use_endpoints as use_webdriver_endpoints, WEBDRIVER_ENV};
pub use session::{kill_processes, BrowserSession};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BrowserKind {
    Chromium,
    /// The Chromium 153 headless shell that `cargo xtask setup` unpacks into
    /// .deps/chromium-webnn: the one browser here with a working WebNN backend. Never a default
    /// browser; chosen by name (`--browsers chromium-webnn`) or by the WebNN bench backends.
    #[serde(rename = "chromium-webnn")]
    ChromiumWebnn,
    Firefox,
    Edge,
    Safari,
}

impl BrowserKind {
    pub const ALL: [BrowserKind; 5] =
        [BrowserKind::Chromium, BrowserKind::ChromiumWebnn, BrowserKind::Firefox, BrowserKind::Edge, BrowserKind::Safari];

    pub fn name(self) -> &'static str {
        match self {
            BrowserKind::Chromium => "chromium",
            BrowserKind::ChromiumWebnn => "chromium-webnn",
            BrowserKind::Firefox => "firefox",
            BrowserKind::Edge => "edge",
            BrowserKind::Safari => "safari",
        }
    }

    pub fn parse(name: &str) -> Option<BrowserKind> {
        match name.to_ascii_lowercase().as_str() {
            "chromium" | "chrome" => Some(BrowserKind::Chromium),
            "chromium-webnn" => Some(BrowserKind::ChromiumWebnn),
            "firefox" => Some(BrowserKind::Firefox),
            "edge" | "msedge" => Some(BrowserKind::Edge),
            "safari" => Some(BrowserKind::Safari),
            _ => None,
        }
    }

    /// Every name `parse` accepts as the canonical one, for error messages.
    pub fn known_names() -> String {
        BrowserKind::ALL.map(BrowserKind::name).join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::BrowserKind;

    #[test]
    fn every_kind_parses_from_its_name_and_serializes_as_it() {
        for kind in BrowserKind::ALL {
            assert_eq!(BrowserKind::parse(kind.name()), Some(kind));
            assert_eq!(serde_json::to_value(kind).ok(), Some(serde_json::json!(kind.name())));
        }
        assert!(BrowserKind::known_names().contains("chromium-webnn"));
    }
}
