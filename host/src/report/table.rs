//! Plain-text table of a run for the terminal.

use super::RunView;
use std::fmt::Write;

pub fn render_table(view: &RunView) -> String {
    let r = &view.run;
    let mut out = String::new();
    let commit = r.git_commit.as_deref().map(|c| &c[..c.len().min(10)]).unwrap_or("unknown");
    let dirty = if r.git_dirty == Some(true) { " (dirty)" } else { "" };
    let _ = writeln!(out, "run {}  suite={}  {}  commit {commit}{dirty}", r.run_id, r.suite, r.started_at);
    let _ = writeln!(out, "host {} — {} — {} × {} cores\n", r.host_name, r.os, r.cpu_model, r.cpu_cores);
    let header = ["kernel", "shape", "backend", "median ms", "p90 ms", "±MAD", "GFLOP/s", "vs cpu", "max err", "status"];
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|s| s.to_string()).collect()];
    for (kernel, shape) in view.case_keys() {
        let baseline = view.baseline_ms(&kernel, &shape);
        for c in view.cases.iter().filter(|c| c.kernel == kernel && c.shape == shape) {
            let soft = if view.is_software(c.env_id) { " *" } else { "" };
            let num = |v: Option<f64>, digits: usize| v.map(|v| format!("{v:.digits$}")).unwrap_or_else(|| "-".into());
            let ratio = match (c.median_ms, baseline) {
                (Some(m), Some(b)) if c.status == "ok" && m > 0.0 => format!("{:.2}x", b / m),
                _ => "-".into(),
            };
            rows.push(vec![
                kernel.clone(),
                shape.clone(),
                format!("{}{soft}", view.env_label(c.env_id)),
                num(c.median_ms, 3),
                num(c.p90_ms, 3),
                num(c.mad_ms, 3),
                num(c.gflops, 2),
                ratio,
                c.max_abs_err.map(|e| format!("{e:.1e}")).unwrap_or_else(|| "-".into()),
                c.status.clone(),
            ]);
        }
    }
    let widths: Vec<usize> = (0..header.len()).map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0)).collect();
    for (n, row) in rows.iter().enumerate() {
        let line: Vec<String> = row.iter().zip(&widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
        if n == 0 {
            let _ = writeln!(out, "{}", widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("  "));
        }
    }
    let _ = writeln!(out, "\n* software adapter (CPU emulation of a GPU: SwiftShader, lavapipe, llvmpipe) — not a GPU figure.");
    let _ = writeln!(out, "vs cpu: native-cpu median / this median in the same run (>1 is faster than native CPU).");
    for e in view.envs.iter().filter(|e| e.unavailable_reason.is_some()) {
        let _ = writeln!(out, "unavailable: {}: {}", e.label(), e.unavailable_reason.as_deref().unwrap_or(""));
    }
    for c in view.cases.iter().filter(|c| c.status == "error" || c.status == "mismatch") {
        let _ =
            writeln!(out, "{}: {} {} on {}: {}", c.status, c.kernel, c.shape, view.env_label(c.env_id), c.error.as_deref().unwrap_or(""));
    }
    out
}
