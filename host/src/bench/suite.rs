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
    /// The backends `--quick` runs when `--backends` is not given: the rows that say the most
    /// per minute (all of them unless a suite says otherwise).
    fn quick_backends(&self) -> Vec<&'static str> {
        self.backends()
    }
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
        let (warmup, samples) = bench.counts();
        ipfs_accelerate::bench::check_counts(warmup, samples, ipfs_accelerate::core::OptionStyle::Cli)?;
        let backends = match (bench.quick, bench.backends.is_empty()) {
            (true, true) => self.quick_backends().iter().map(|b| b.to_string()).collect(),
            _ => checked_backends(&bench.backends, &self.backends())?,
        };
        let browsers = browsers_or(&bench.browsers, &self.default_browsers())?;
        Ok(SuiteOptions { warmup, samples, backends, browsers, only: Default::default(), quick: bench.quick })
    }
    /// How many environments (a backend; in one browser for a browser backend) a run with
    /// `opts` records: the length of its progress bar.
    fn planned_environments(&self, opts: &SuiteOptions) -> usize {
        super::progress::planned_environments(&opts.backends, opts.browsers.len())
    }
    fn run<'a>(&'a self, command: &'a str, opts: SuiteOptions, bench: &'a BenchOptions) -> LocalBoxFuture<'a, Result<RunRecord>>;
}
