//! Real browsers over WebDriver: finding them, launching them with fresh profiles, and
//! calling into the SDK page they load.

mod capabilities;
mod detect;
mod driver;
mod session;

pub use detect::{detect_all, BrowserInstall, Detection};
pub use session::{kill_processes, BrowserSession};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BrowserKind {
    Chromium,
    Firefox,
    Edge,
    Safari,
}

impl BrowserKind {
    pub const ALL: [BrowserKind; 4] = [BrowserKind::Chromium, BrowserKind::Firefox, BrowserKind::Edge, BrowserKind::Safari];

    pub fn name(self) -> &'static str {
        match self {
            BrowserKind::Chromium => "chromium",
            BrowserKind::Firefox => "firefox",
            BrowserKind::Edge => "edge",
            BrowserKind::Safari => "safari",
        }
    }

    pub fn parse(name: &str) -> Option<BrowserKind> {
        match name.to_ascii_lowercase().as_str() {
            "chromium" | "chrome" => Some(BrowserKind::Chromium),
            "firefox" => Some(BrowserKind::Firefox),
            "edge" | "msedge" => Some(BrowserKind::Edge),
            "safari" => Some(BrowserKind::Safari),
            _ => None,
        }
    }
}
