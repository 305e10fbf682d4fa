//! The options every bench suite is given (`accelerate bench` flags besides `--suite`, `--db`
//! and `--report`), and the defaults every command shares: which browser runs when none is
//! named, how browser and backend names are checked.

use crate::browser::BrowserKind;
use crate::error::{HostError, Result};

/// The browser every command and suite uses when `--browsers` (or `--browser`) is not given.
pub const DEFAULT_BROWSER: BrowserKind = BrowserKind::Chromium;

/// The `accelerate bench` options shared by every suite; each suite reads the ones it uses.
#[derive(clap::Args, Debug, Clone)]
pub struct BenchOptions {
    /// Untimed runs before the samples [default: 3; 1 with --quick].
    #[arg(long)]
    pub warmup: Option<u32>,
    /// Timed runs per case [default: 10; 5 with --quick].
    #[arg(long)]
    pub samples: Option<u32>,
    /// The few-minute tour (`cargo xtask demo`): each suite's headline backends unless
    /// --backends names others, fewer samples, and on software GPU adapters (SwiftShader,
    /// lavapipe) only what finishes in seconds; what it leaves out is stored as skipped, with why.
    #[arg(long)]
    pub quick: bool,
    // The help texts of --backends and --browsers are written from the suite registry
    // (`commands/bench.rs`), which sits above the suites that read these options.
    #[arg(long, value_delimiter = ',')]
    pub backends: Vec<String>,
    #[arg(long, value_delimiter = ',')]
    pub browsers: Vec<String>,
    /// pool: throughput is measured for 1..=sessions browser sessions.
    #[arg(long, default_value_t = 3)]
    pub sessions: usize,
    /// pool / shard: browser kills injected in the fault run.
    #[arg(long, default_value_t = 50)]
    pub faults: usize,
    /// shard: latency is measured for 1..=shards stages.
    #[arg(long, default_value_t = 3)]
    pub shards: usize,
    /// shard: weight bytes per stage in the budget case (e.g. 56MiB, the default).
    #[arg(long)]
    pub stage_budget: Option<String>,
}

impl BenchOptions {
    /// `--warmup` and `--samples` as given, or the defaults of a full or `--quick` run.
    pub fn counts(&self) -> (u32, u32) {
        let (warmup, samples) = if self.quick { (1, 5) } else { (3, 10) };
        (self.warmup.unwrap_or(warmup), self.samples.unwrap_or(samples))
    }
}

/// `--browsers` as given, parsed; `default` when the flag was not given.
pub fn browsers_or(names: &[String], default: &[BrowserKind]) -> Result<Vec<BrowserKind>> {
    if names.is_empty() {
        return Ok(default.to_vec());
    }
    parse_browsers(names)
}

/// Browser names parsed; empty entries and `none` are skipped.
pub fn parse_browsers(browsers: &[String]) -> Result<Vec<BrowserKind>> {
    browsers.iter().filter(|b| !b.is_empty() && *b != "none").map(|b| parse_browser(b)).collect()
}

/// One browser name parsed.
pub fn parse_browser(name: &str) -> Result<BrowserKind> {
    BrowserKind::parse(name).ok_or_else(|| HostError::Invalid(format!("unknown browser {name:?}; known: {}", BrowserKind::known_names())))
}

/// `backends` checked against `known`; empty means all of them.
pub fn checked_backends(backends: &[String], known: &[&str]) -> Result<Vec<String>> {
    if let Some(bad) = backends.iter().find(|b| !known.contains(&b.as_str())) {
        return Err(HostError::Invalid(format!("unknown backend {bad:?}; known: {}", known.join(", "))));
    }
    Ok(if backends.is_empty() { known.iter().map(|s| s.to_string()).collect() } else { backends.to_vec() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn no_browsers_given_means_the_default() {
        assert_eq!(browsers_or(&[], &[DEFAULT_BROWSER]).unwrap(), [BrowserKind::Chromium]);
        assert_eq!(browsers_or(&[], &[DEFAULT_BROWSER; 2]).unwrap(), [BrowserKind::Chromium; 2]);
        assert_eq!(browsers_or(&names(&["firefox", "chrome"]), &[DEFAULT_BROWSER]).unwrap(), [BrowserKind::Firefox, BrowserKind::Chromium]);
        // `none` is an explicit choice of no browser, not a request for the default.
        assert_eq!(browsers_or(&names(&["none"]), &[DEFAULT_BROWSER]).unwrap(), []);
        let err = browsers_or(&names(&["netscape"]), &[DEFAULT_BROWSER]).unwrap_err().to_string();
        assert!(err.contains("netscape") && err.contains("chromium, chromium-webnn, firefox"), "{err}");
    }

    #[test]
    fn unknown_backends_are_named_with_the_known_ones() {
        let err = checked_backends(&names(&["native-tpu"]), &["native-cpu", "native-wgpu"]).unwrap_err().to_string();
        assert!(err.contains("native-tpu") && err.contains("native-cpu, native-wgpu"), "{err}");
        assert_eq!(checked_backends(&names(&["native-wgpu"]), &["native-cpu", "native-wgpu"]).unwrap(), ["native-wgpu"]);
    }
}
