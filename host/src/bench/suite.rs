//! The bench suites behind one trait, and the one list of them: `--suite` is parsed against
//! [`registry`], `accelerate bench --help` is written from it, and `accelerate bench` runs
//! what it returns. Each suite implements [`Suite`] in its own file under `bench/`.

use super::options::{browsers_or, checked_backends, BenchOptions, DEFAULT_BROWSER};
use super::record::RunRecord;
use super::SuiteOptions;
use crate::browser::BrowserKind;
use crate::error::Result;
use futures_util::future::LocalBoxFuture;

/// What `--suite`, `--help` and `--report` say of a suite.
pub struct About {
    /// What `--suite` calls it.
    pub name: &'static str,
    /// One line for `--help`.
    pub description: &'static str,
    /// Where `--report` without a path writes the suite's HTML report.
    pub default_report: &'static str,
}

/// One benchmark suite of `accelerate bench --suite NAME`.
pub trait Suite: Sync {
    /// Its name, description and default report path.
    fn about(&self) -> &About;
    fn name(&self) -> &'static str {
        self.about().name
    }
    /// The backend labels `--backends` may name; all of them run when none is named.
    fn backends(&self) -> Vec<&'static str>;
    /// The browsers of its browser backends when `--browsers` is not given.
    fn default_browsers(&self) -> Vec<BrowserKind> {
        vec![DEFAULT_BROWSER]
    }
    /// Runs the suite. `opts` are the common options resolved for it
    /// ([`BenchOptions::for_suite`]); `bench` holds the suite-specific ones (sessions, shards…).
    /// The common options resolved for this suite: `--backends` checked against its own (all
    /// of them when none is given), `--browsers` parsed (its default when none is given).
    fn options(&self, bench: &BenchOptions) -> Result<SuiteOptions> {
        // Sample counts are bounded up front (the SDK's one bound, which every case checks
        // again), not discovered per case after the browsers have started.
        ipfs_accelerate::bench::check_counts(bench.warmup, bench.samples, ipfs_accelerate::core::OptionStyle::Cli)?;
        let backends = checked_backends(&bench.backends, &self.backends())?;
        let browsers = browsers_or(&bench.browsers, &self.default_browsers())?;
        Ok(SuiteOptions { warmup: bench.warmup, samples: bench.samples, backends, browsers, only: Default::default() })
    }
    fn run<'a>(&'a self, command: &'a str, opts: SuiteOptions, bench: &'a BenchOptions) -> LocalBoxFuture<'a, Result<RunRecord>>;
}
