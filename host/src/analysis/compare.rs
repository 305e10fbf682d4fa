//! Case by case, is a candidate run slower than a base run? A case regresses when its median
//! moved by more than both the minimum effect and the case's own run-to-run noise, the rank
//! test on the raw samples says the move is not chance, and the bootstrap interval of the ratio
//! lies wholly on the slow side; a case that passed in the base and fails in the candidate
//! regresses too.
//!
//! Why the noise floor: samples within one run are not independent of the run. On a shared
//! 2-vCPU machine a whole run lands 10–100 % off another run of the same build (where the
//! scheduler put the threads, what the neighbour did), while its samples agree to ±1 %; a
//! sample-level test alone then calls most repeated runs regressions. So each case's spread of
//! medians over earlier runs of the suite sets how large a move must be to count.

use super::significance::{median, normal_quantile, shift, Shift};
use crate::error::{HostError, Result};
use crate::store::{CaseKey, CaseSamples, RunRow, Store};
use std::collections::HashMap;

/// Earlier runs whose medians estimate a case's run-to-run noise.
const NOISE_RUNS: usize = 20;
/// Fewer earlier medians than this give no estimate; the minimum effect alone applies.
const MIN_NOISE_RUNS: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Smallest slowdown (or speed-up) that counts, as a fraction: 0.1 is 10 %.
    pub min_effect: f64,
    /// Significance level for the whole comparison; each case is tested at alpha / cases
    /// (Bonferroni), so a large suite does not raise false alarms by sheer number.
    pub alpha: f64,
}

impl Default for Thresholds {
    fn default() -> Thresholds {
        Thresholds { min_effect: 0.10, alpha: 0.01 }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Regression,
    Improvement,
    Unchanged,
    /// The medians moved by more than the minimum effect, but the samples do not show it
    /// beyond chance (too few samples, or too much spread).
    Inconclusive,
    /// The medians moved by more than the minimum effect, but no more than this case moves
    /// between runs of one build.
    WithinNoise,
    /// Passed in the base, failed in the candidate (error or wrong output).
    Broke(String),
    Fixed,
    /// Not comparable: on one side only, or neither side has samples that passed.
    NotCompared(String),
}

impl Verdict {
    pub fn is_regression(&self) -> bool {
        matches!(self, Verdict::Regression | Verdict::Broke(_))
    }

    pub fn word(&self) -> &'static str {
        match self {
            Verdict::Regression => "REGRESSION",
            Verdict::Improvement => "improvement",
            Verdict::Unchanged => "unchanged",
            Verdict::Inconclusive => "inconclusive",
            Verdict::WithinNoise => "within noise",
            Verdict::Broke(_) => "BROKE",
            Verdict::Fixed => "fixed",
            Verdict::NotCompared(_) => "not compared",
        }
    }
}

#[derive(Debug, Clone)]
pub struct CaseComparison {
    pub key: CaseKey,
    pub base_median: Option<f64>,
    pub candidate_median: Option<f64>,
    pub shift: Option<Shift>,
    /// The case's run-to-run noise as a fraction, when enough earlier runs give one.
    pub noise: Option<Noise>,
    pub verdict: Verdict,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Noise {
    /// The smallest move the case's noise lets through at the case's significance level.
    pub floor: f64,
    /// How many earlier medians it was estimated from.
    pub runs: usize,
}

impl Noise {
    /// From earlier medians: the standard deviation of their logarithms, widened for a
    /// difference of two runs (√2) at the one-sided quantile of `alpha`.
    fn of(medians: &[f64], alpha: f64) -> Option<Noise> {
        if medians.len() < MIN_NOISE_RUNS {
            return None;
        }
        let logs: Vec<f64> = medians.iter().map(|m| m.ln()).collect();
        let mean = logs.iter().sum::<f64>() / logs.len() as f64;
        let sd = (logs.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / (logs.len() - 1) as f64).sqrt();
        let z = normal_quantile(1.0 - alpha);
        Some(Noise { floor: (z * std::f64::consts::SQRT_2 * sd).exp() - 1.0, runs: medians.len() })
    }
}

/// Two stored runs compared case by case.
pub struct Comparison {
    pub base: RunRow,
    pub candidate: RunRow,
    pub thresholds: Thresholds,
    pub cases: Vec<CaseComparison>,
}

impl Comparison {
    /// `base` and `candidate` as `accelerate compare` takes them: run ids, commits or `latest`;
    /// a commit or `latest` as the base means a run of the candidate's suite.
    pub fn load(store: &Store, base: &str, candidate: &str, thresholds: Thresholds) -> Result<Comparison> {
        let candidate = store.resolve_run(candidate, None)?;
        let base = store.resolve_run(base, Some(&candidate.suite))?;
        if base.run_id == candidate.run_id {
            return Err(HostError::Invalid(format!("base and candidate are the same run ({}); name two different runs", base.run_id)));
        }
        let earlier = store.earlier_medians(&candidate.suite, &candidate.run_id, NOISE_RUNS)?;
        let cases = compare_runs(&store.case_samples(&base.run_id)?, &store.case_samples(&candidate.run_id)?, &earlier, thresholds);
        Ok(Comparison { base, candidate, thresholds, cases })
    }

    pub fn regressions(&self) -> usize {
        self.cases.iter().filter(|c| c.verdict.is_regression()).count()
    }

    /// `3 regressions, 1 improvement, …` over every verdict that occurred.
    pub fn summary(&self) -> String {
        let mut counts: Vec<(&str, usize)> = Vec::new();
        for c in &self.cases {
            match counts.iter_mut().find(|(w, _)| *w == c.verdict.word()) {
                Some((_, n)) => *n += 1,
                None => counts.push((c.verdict.word(), 1)),
            }
        }
        counts.sort_by_key(|(w, _)| *w);
        let parts: Vec<String> = counts.iter().map(|(w, n)| format!("{n} {}", w.to_lowercase())).collect();
        format!("{} cases: {}", self.cases.len(), parts.join(", "))
    }
}

/// Compare every case the two runs share (and say which they do not); `earlier` holds each
/// case's medians in earlier runs, for its noise floor.
pub fn compare_runs(
    base: &[CaseSamples],
    candidate: &[CaseSamples],
    earlier: &HashMap<CaseKey, Vec<f64>>,
    t: Thresholds,
) -> Vec<CaseComparison> {
    let tested = base.iter().filter(|b| candidate.iter().any(|c| c.key == b.key)).count().max(1);
    let per_case_alpha = t.alpha / tested as f64;
    let mut out: Vec<CaseComparison> = base
        .iter()
        .map(|b| match candidate.iter().find(|c| c.key == b.key) {
            Some(c) => {
                let noise = earlier.get(&b.key).and_then(|m| Noise::of(m, per_case_alpha));
                compare_case(b, c, noise, t.min_effect, per_case_alpha)
            }
            None => not_compared(b, false, "not in the candidate run"),
        })
        .collect();
    out.extend(
        candidate.iter().filter(|c| !base.iter().any(|b| b.key == c.key)).map(|c| not_compared(c, true, "new in the candidate run")),
    );
    out
}

fn compare_case(base: &CaseSamples, cand: &CaseSamples, noise: Option<Noise>, min_effect: f64, alpha: f64) -> CaseComparison {
    let (base_ok, cand_ok) = (base.status == "ok", cand.status == "ok");
    let mut cmp = CaseComparison {
        key: base.key.clone(),
        base_median: median(&base.samples_ms),
        candidate_median: median(&cand.samples_ms),
        shift: None,
        noise,
        verdict: Verdict::Unchanged,
    };
    let floor = noise.map_or(0.0, |n| n.floor);
    cmp.verdict = match (base_ok, cand_ok) {
        (true, false) => Verdict::Broke(format!("{}: {}", cand.status, cand.error.as_deref().unwrap_or("no message"))),
        (false, true) => Verdict::Fixed,
        (false, false) => Verdict::NotCompared(format!("{} in both runs", cand.status)),
        (true, true) => match shift(&base.samples_ms, &cand.samples_ms) {
            None => Verdict::NotCompared("no samples".into()),
            Some(s) => {
                cmp.shift = Some(s);
                timing_verdict(&s, min_effect, floor, alpha)
            }
        },
    };
    cmp
}

fn timing_verdict(s: &Shift, min_effect: f64, noise_floor: f64, alpha: f64) -> Verdict {
    let moved_by = |effect: f64| (s.ratio >= 1.0 + effect, s.ratio <= 1.0 / (1.0 + effect));
    let (slower, faster) = moved_by(min_effect.max(noise_floor));
    if slower && s.p_slower < alpha && s.ci_low > 1.0 {
        Verdict::Regression
    } else if faster && s.p_faster < alpha && s.ci_high < 1.0 {
        Verdict::Improvement
    } else if slower || faster {
        Verdict::Inconclusive
    } else if moved_by(min_effect) != (false, false) {
        Verdict::WithinNoise
    } else {
        Verdict::Unchanged
    }
}

/// A case only one run has; `in_candidate` says which.
fn not_compared(case: &CaseSamples, in_candidate: bool, why: &str) -> CaseComparison {
    let m = median(&case.samples_ms);
    let (base_median, candidate_median) = if in_candidate { (None, m) } else { (m, None) };
    CaseComparison {
        key: case.key.clone(),
        base_median,
        candidate_median,
        shift: None,
        noise: None,
        verdict: Verdict::NotCompared(why.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(kernel: &str, status: &str, samples: Vec<f64>) -> CaseSamples {
        CaseSamples {
            key: CaseKey { backend: "native-cpu".into(), browser: None, kernel: kernel.into(), shape: "s".into() },
            status: status.into(),
            error: (status != "ok").then(|| "boom".into()),
            software_adapter: false,
            samples_ms: samples,
        }
    }

    fn noisy(center: f64, seed: u64) -> Vec<f64> {
        // ±3 % spread, deterministic.
        (0..10).map(|i| center * (1.0 + 0.03 * (((i as u64 * 7 + seed) % 11) as f64 / 5.0 - 1.0))).collect()
    }

    #[test]
    fn verdicts_for_slower_faster_same_broken_fixed_and_unmatched() {
        let base = vec![
            case("slow", "ok", noisy(100.0, 1)),
            case("fast", "ok", noisy(100.0, 2)),
            case("same", "ok", noisy(100.0, 3)),
            case("broke", "ok", noisy(100.0, 4)),
            case("fixed", "error", vec![]),
            case("gone", "ok", noisy(100.0, 5)),
            case("few", "ok", vec![100.0, 101.0]),
        ];
        let cand = vec![
            case("slow", "ok", noisy(120.0, 6)),
            case("fast", "ok", noisy(80.0, 7)),
            case("same", "ok", noisy(101.0, 8)),
            case("broke", "mismatch", noisy(100.0, 9)),
            case("fixed", "ok", noisy(100.0, 10)),
            case("few", "ok", vec![130.0, 131.0]),
            case("new", "ok", noisy(100.0, 11)),
        ];
        let got = compare_runs(&base, &cand, &HashMap::new(), Thresholds::default());
        let verdict = |k: &str| got.iter().find(|c| c.key.kernel == k).map(|c| c.verdict.clone()).unwrap();
        assert_eq!(verdict("slow"), Verdict::Regression);
        assert_eq!(verdict("fast"), Verdict::Improvement);
        assert_eq!(verdict("same"), Verdict::Unchanged);
        assert_eq!(verdict("broke"), Verdict::Broke("mismatch: boom".into()));
        assert_eq!(verdict("fixed"), Verdict::Fixed);
        assert_eq!(verdict("few"), Verdict::Inconclusive, "two samples a side cannot pass a Bonferroni-corrected test");
        assert_eq!(verdict("gone"), Verdict::NotCompared("not in the candidate run".into()));
        assert_eq!(verdict("new"), Verdict::NotCompared("new in the candidate run".into()));
        assert_eq!(got.iter().filter(|c| c.verdict.is_regression()).count(), 2);
    }

    #[test]
    fn a_shift_smaller_than_the_minimum_effect_is_no_regression_however_significant() {
        let base = vec![case("k", "ok", noisy(100.0, 1))];
        let cand = vec![case("k", "ok", noisy(100.0, 1).iter().map(|v| v * 1.08).collect())];
        let got = compare_runs(&base, &cand, &HashMap::new(), Thresholds::default());
        assert!(got[0].shift.unwrap().p_slower < 1e-3, "{:?}", got[0].shift);
        assert_eq!(got[0].verdict, Verdict::Unchanged);
        let strict = compare_runs(&base, &cand, &HashMap::new(), Thresholds { min_effect: 0.05, alpha: 0.01 });
        assert_eq!(strict[0].verdict, Verdict::Regression);
    }

    #[test]
    fn a_case_that_moves_a_lot_between_runs_needs_a_larger_move_to_count() {
        let base = vec![case("k", "ok", noisy(100.0, 1))];
        let cand = vec![case("k", "ok", noisy(130.0, 2))];
        assert_eq!(compare_runs(&base, &cand, &HashMap::new(), Thresholds::default())[0].verdict, Verdict::Regression);
        // Earlier runs of the same build landed anywhere from 80 to 125 ms.
        let earlier = HashMap::from([(base[0].key.clone(), vec![100.0, 80.0, 125.0, 95.0, 110.0])]);
        let got = &compare_runs(&base, &cand, &earlier, Thresholds::default())[0];
        let noise = got.noise.unwrap();
        assert_eq!(noise.runs, 5);
        assert!(noise.floor > 0.3, "{noise:?}");
        assert_eq!(got.verdict, Verdict::WithinNoise);
        // Quiet history: the floor is below the minimum effect, which then applies.
        let quiet = HashMap::from([(base[0].key.clone(), vec![100.0, 100.5, 99.5, 100.2])]);
        let got = &compare_runs(&base, &cand, &quiet, Thresholds::default())[0];
        assert!(got.noise.unwrap().floor < 0.1 && got.verdict == Verdict::Regression, "{got:?}");
        let too_few = HashMap::from([(base[0].key.clone(), vec![80.0, 125.0])]);
        assert!(compare_runs(&base, &cand, &too_few, Thresholds::default())[0].noise.is_none());
    }
}
