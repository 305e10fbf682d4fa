//! `accelerate compare --html`: the two runs side by side, one row per case, regressions first.

use super::page::{esc, CSS};
use crate::analysis::compare::{Comparison, Verdict};
use crate::store::RunRow;
use std::fmt::Write;

pub fn render_compare_html(c: &Comparison) -> String {
    let mut h = format!(
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>ipfs-accelerate compare</title><style>{CSS}</style></head><body>"
    );
    let _ = write!(h, "<h1>Comparison — suite <code>{}</code></h1>", esc(&c.candidate.suite));
    let _ = write!(h, "<p>base: {}<br>candidate: {}</p>", run_line(&c.base), run_line(&c.candidate));
    let _ = write!(
        h,
        "<p><b>{}</b>. A case regresses when its median is slower by at least {:.0} % and by more than its run-to-run noise (the spread of its medians over up to 20 earlier runs of the suite, at the case's significance level; none below 3 runs), the one-sided Mann–Whitney test on the raw samples gives p &lt; {} / cases (Bonferroni), and the 95 % bootstrap interval of the ratio lies above 1; or when it passed in the base and fails in the candidate.</p>",
        esc(&c.summary()),
        100.0 * c.thresholds.min_effect,
        c.thresholds.alpha
    );
    h.push_str("<table><tr><th class=l>case</th><th>base ms</th><th>candidate ms</th><th>ratio</th><th>95 % CI</th><th>p (slower)</th><th>noise floor (runs)</th><th class=l>verdict</th></tr>");
    let mut rows: Vec<_> = c.cases.iter().collect();
    rows.sort_by_key(|r| !r.verdict.is_regression());
    for r in rows {
        let num = |v: Option<f64>| v.map(|v| format!("{v:.3}")).unwrap_or_else(|| "-".into());
        let (ratio, ci, p) = match &r.shift {
            Some(s) => (format!("{:.3}×", s.ratio), format!("{:.3}–{:.3}", s.ci_low, s.ci_high), format!("{:.1e}", s.p_slower)),
            None => ("-".into(), "-".into(), "-".into()),
        };
        let noise = r.noise.map(|n| format!("{:.0} % ({})", 100.0 * n.floor, n.runs)).unwrap_or_else(|| "-".into());
        let verdict = match &r.verdict {
            Verdict::Broke(why) => format!("<span class=bad>BROKE</span>: {}", esc(why)),
            Verdict::NotCompared(why) => format!("not compared: {}", esc(why)),
            v if v.is_regression() => format!("<span class=bad>{}</span>", v.word()),
            v => v.word().to_string(),
        };
        let _ = write!(
            h,
            "<tr><td class=l>{}</td><td>{}</td><td>{}</td><td>{ratio}</td><td>{ci}</td><td>{p}</td><td>{noise}</td><td class=l>{verdict}</td></tr>",
            esc(&r.key.label()),
            num(r.base_median),
            num(r.candidate_median)
        );
    }
    h.push_str("</table></body></html>");
    h
}

fn run_line(r: &RunRow) -> String {
    format!(
        "run <code>{}</code> at {}, commit <code>{}</code>{} on {}",
        esc(&r.run_id),
        esc(&r.started_at),
        esc(r.git_commit.as_deref().unwrap_or("unknown")),
        if r.git_dirty == Some(true) { " (dirty)" } else { "" },
        esc(&r.host_name)
    )
}
