//! The one list of bench suites: `--suite` is parsed against it, the help texts are written
//! from it, and `accelerate bench` runs what it names.

use super::options::DEFAULT_BROWSER;
use super::suite::Suite;
use super::{audio, cache, kernels, llm, minilm, pool, shard, vision};
use crate::browser::BrowserKind;
use crate::error::{HostError, Result};

/// Every suite, in the order `--help` lists them. Adding a suite: implement [`Suite`] in its
/// file and add it here (docs/guides/adding-a-bench-suite.md).
static REGISTRY: [&dyn Suite; 9] = [
    &kernels::Kernels::FULL,
    &kernels::Kernels::SMOKE,
    &minilm::MiniLm,
    &cache::Cache,
    &pool::Pool,
    &shard::Shard,
    &llm::Llm,
    &vision::Vision,
    &audio::AudioSuite,
];

pub fn registry() -> &'static [&'static dyn Suite] {
    &REGISTRY
}

/// The registered suite called `name`.
pub fn find(name: &str) -> Result<&'static dyn Suite> {
    registry().iter().copied().find(|s| s.name() == name).ok_or_else(|| unknown(name))
}

/// `--suite a,b` (already split on commas): each name looked up, in the order given.
pub fn parse(names: &[String]) -> Result<Vec<&'static dyn Suite>> {
    if names.is_empty() {
        return Err(unknown(""));
    }
    names.iter().map(|n| find(n)).collect()
}

fn unknown(name: &str) -> HostError {
    let known: Vec<&str> = registry().iter().map(|s| s.name()).collect();
    HostError::Invalid(format!("unknown suite {name:?}; available: {}", known.join(", ")))
}

/// `--suite`'s help: every suite with its description.
pub fn suites_help() -> String {
    let list: Vec<String> = registry().iter().map(|s| format!("`{}` ({})", s.name(), s.about().description)).collect();
    format!("Suites to run, comma-separated: {}.", list.join(", "))
}

/// `--backends`' help: each suite's backend labels.
pub fn backends_help() -> String {
    let list: Vec<String> = registry().iter().map(|s| format!("{}: {}", s.name(), s.backends().join(", "))).collect();
    format!("Comma-separated backends (default: all of the suite's). {}.", list.join(". "))
}

/// `--browsers`' help: the suites whose default is not the common one, then the common one.
pub fn browsers_help() -> String {
    let names = |kinds: &[BrowserKind]| kinds.iter().map(|k| k.name()).collect::<Vec<_>>().join(",");
    let special: Vec<String> = registry()
        .iter()
        .filter(|s| s.default_browsers() != [DEFAULT_BROWSER])
        .map(|s| format!("{} for {}", names(&s.default_browsers()), s.name()))
        .collect();
    let common = format!("{} for the others", DEFAULT_BROWSER.name());
    format!(
        "Comma-separated browsers for the browser backends: {} (default: {})",
        BrowserKind::known_names(),
        special.into_iter().chain([common]).collect::<Vec<_>>().join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::options::BenchOptions;
    use std::collections::HashSet;

    #[test]
    fn every_suite_is_registered_once_under_a_unique_name() {
        let names: Vec<&str> = registry().iter().map(|s| s.name()).collect();
        assert_eq!(names, ["kernels", "kernels-smoke", "minilm", "cache", "pool", "shard", "llm", "vision", "audio"]);
        let reports: HashSet<&str> = registry().iter().map(|s| s.about().default_report).collect();
        assert_eq!(reports.len(), names.len(), "two suites would overwrite one report");
        for suite in registry() {
            assert!(!suite.about().description.is_empty() && !suite.about().description.contains('\n'), "{}", suite.name());
            assert!(suite.about().default_report.starts_with("results/") && suite.about().default_report.ends_with(".html"));
            let backends = suite.backends();
            assert!(!backends.is_empty(), "{}", suite.name());
            assert_eq!(backends.iter().collect::<HashSet<_>>().len(), backends.len(), "{}: a backend listed twice", suite.name());
            assert!(!suite.default_browsers().is_empty(), "{}", suite.name());
        }
    }

    #[test]
    fn suite_lists_parse_in_order_and_unknown_names_list_the_registered_ones() {
        let parsed = parse(&["minilm".into(), "kernels-smoke".into()]).unwrap();
        assert_eq!(parsed.iter().map(|s| s.name()).collect::<Vec<_>>(), ["minilm", "kernels-smoke"]);
        let err = parse(&["minilm".into(), "nope".into()]).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("\"nope\""), "{err}");
        for suite in registry() {
            assert!(err.contains(suite.name()), "{err} lacks {}", suite.name());
        }
        assert!(parse(&[]).is_err() && parse(&["".into()]).is_err(), "no suite named is an error, not an empty run");
    }

    #[test]
    fn help_is_written_from_the_registry() {
        let (suites, backends, browsers) = (suites_help(), backends_help(), browsers_help());
        for suite in registry() {
            assert!(suites.contains(&format!("`{}` ({})", suite.name(), suite.about().description)), "{suites}");
            assert!(backends.contains(&format!("{}: {}", suite.name(), suite.backends().join(", "))), "{backends}");
        }
        assert!(browsers.contains("chromium,firefox for kernels") && browsers.ends_with("chromium for the others)"), "{browsers}");
    }

    /// The options of `accelerate bench` with no flags but `--quick` if `quick`.
    fn no_flags(quick: bool) -> BenchOptions {
        BenchOptions {
            warmup: None,
            samples: None,
            quick,
            backends: vec![],
            browsers: vec![],
            sessions: 1,
            faults: 0,
            shards: 1,
            stage_budget: None,
        }
    }

    #[test]
    fn every_suite_defaults_to_chromium_and_kernels_vision_and_audio_add_firefox() {
        let opts = no_flags(false);
        for suite in registry() {
            let both = suite.name().starts_with("kernels") || ["vision", "audio"].contains(&suite.name());
            let want: &[BrowserKind] = if both { &[BrowserKind::Chromium, BrowserKind::Firefox] } else { &[BrowserKind::Chromium] };
            let resolved = suite.options(&opts).unwrap();
            assert_eq!(resolved.browsers, want, "{}", suite.name());
            assert_eq!(resolved.backends, suite.backends(), "no --backends means all of {}'s", suite.name());
        }
        let given = BenchOptions { browsers: vec!["firefox".into()], ..opts };
        assert_eq!(find("minilm").unwrap().options(&given).unwrap().browsers, [BrowserKind::Firefox]);
    }

    #[test]
    fn quick_runs_each_suites_headline_backends_with_fewer_samples_unless_told_otherwise() {
        let quick = no_flags(true);
        for suite in registry() {
            let resolved = suite.options(&quick).unwrap();
            assert_eq!((resolved.warmup, resolved.samples, resolved.quick), (1, 5, true), "{}", suite.name());
            assert!(!resolved.backends.is_empty(), "{}", suite.name());
            assert!(resolved.backends.iter().all(|b| suite.backends().contains(&b.as_str())), "{}: {:?}", suite.name(), resolved.backends);
        }
        let minilm = find("minilm").unwrap().options(&quick).unwrap();
        assert!(minilm.backends.contains(&"browser-ort-web-threads".to_string()) && !minilm.backends.contains(&"browser-cpu".to_string()));
        // What the user names wins over the tour's choices.
        let told = BenchOptions { samples: Some(20), backends: vec!["browser-cpu".into()], ..quick };
        let resolved = find("minilm").unwrap().options(&told).unwrap();
        assert_eq!((resolved.warmup, resolved.samples, resolved.backends), (1, 20, vec!["browser-cpu".to_string()]));
        let full = BenchOptions { quick: false, samples: None, ..told };
        assert_eq!(full.counts(), (3, 10));
    }
}
