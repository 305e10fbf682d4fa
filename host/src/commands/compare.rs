//! `accelerate compare BASE CANDIDATE`: did the candidate run get slower? A table and an HTML
//! page of every case; the process exits with status 1 when any case regressed, so CI can gate
//! on it.

use super::report::{existing_store, write_html};
use crate::analysis::compare::{Comparison, Thresholds};
use crate::report::render_compare_html;
use crate::{paths, HostError, Result};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// The base: a run id, a commit (7+ hex digits; its newest run) or `latest`.
    base: String,
    /// The candidate, named the same ways.
    candidate: String,
    #[arg(long, default_value_os_t = paths::default_db())]
    db: PathBuf,
    /// Smallest change that counts, as a fraction of the base median (0.10 = 10 %).
    #[arg(long, default_value_t = Thresholds::default().min_effect)]
    min_effect: f64,
    /// Significance level for the whole comparison (split over the cases: Bonferroni).
    #[arg(long, default_value_t = Thresholds::default().alpha)]
    alpha: f64,
    #[arg(long, default_value = "results/compare.html")]
    html: PathBuf,
}

/// Ok(true) when a case regressed.
pub fn run(Args { base, candidate, db, min_effect, alpha, html }: Args) -> Result<bool> {
    if !(min_effect > 0.0 && min_effect.is_finite()) {
        return Err(HostError::Invalid(format!("--min-effect must be a positive fraction such as 0.1 (got {min_effect})")));
    }
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(HostError::Invalid(format!("--alpha must lie strictly between 0 and 1 (got {alpha})")));
    }
    let store = existing_store(&db)?;
    let comparison = Comparison::load(&store, &base, &candidate, Thresholds { min_effect, alpha })?;
    print!("{}", render_table(&comparison));
    write_html(&render_compare_html(&comparison), &html)?;
    let regressions = comparison.regressions();
    if regressions > 0 {
        eprintln!("{regressions} case(s) regressed");
    }
    Ok(regressions > 0)
}

fn render_table(c: &Comparison) -> String {
    let mut out = format!(
        "base      {} ({}, commit {})\ncandidate {} ({}, commit {})\n",
        c.base.run_id,
        c.base.started_at,
        short(c.base.git_commit.as_deref()),
        c.candidate.run_id,
        c.candidate.started_at,
        short(c.candidate.git_commit.as_deref())
    );
    out.push_str(&format!(
        "{:<58} {:>11} {:>11} {:>8} {:>15} {:>8} {:>9}  verdict\n",
        "case", "base ms", "cand ms", "ratio", "95% CI", "p", "noise"
    ));
    for r in &c.cases {
        let num = |v: Option<f64>| v.map(|v| format!("{v:.3}")).unwrap_or_else(|| "-".into());
        let (ratio, ci, p) = match &r.shift {
            Some(s) => (format!("{:.3}x", s.ratio), format!("{:.3}-{:.3}", s.ci_low, s.ci_high), format!("{:.0e}", s.p_slower)),
            None => ("-".into(), "-".into(), "-".into()),
        };
        let mut label = r.key.label();
        if label.chars().count() > 58 {
            label = label.chars().take(57).collect::<String>() + "…";
        }
        out.push_str(&format!(
            "{label:<58} {:>11} {:>11} {ratio:>8} {ci:>15} {p:>8} {:>9}  {}\n",
            num(r.base_median),
            num(r.candidate_median),
            noise_label(r),
            r.verdict.word()
        ));
    }
    out.push_str(&c.summary());
    out.push_str(
        "\nnoise: the smallest move each case's spread over earlier runs of the suite lets through (n = runs); \"-\" when fewer than 3\n",
    );
    out
}

/// `12% n=9`, or `-` without enough earlier runs.
fn noise_label(r: &crate::analysis::compare::CaseComparison) -> String {
    r.noise.map(|n| format!("{:.0}% n={}", 100.0 * n.floor, n.runs)).unwrap_or_else(|| "-".into())
}

fn short(commit: Option<&str>) -> String {
    commit.map(|c| c.chars().take(10).collect()).unwrap_or_else(|| "unknown".into())
}
