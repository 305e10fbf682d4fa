//! One self-contained HTML file: inline CSS and SVG charts, no scripts, no network.

use super::page::{esc, CSS};
use super::RunView;
use std::fmt::Write;

pub fn render_html(view: &RunView) -> String {
    let r = &view.run;
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>ipfs-accelerate run {}</title><style>{CSS}</style></head><body>",
        esc(&r.run_id)
    );
    let _ = write!(h, "<h1>ipfs-accelerate — suite <code>{}</code></h1>", esc(&r.suite));
    let _ = write!(
        h,
        "<p>run <code>{}</code> at {} on {} ({}, {} × {} cores), commit <code>{}</code>{}</p>",
        esc(&r.run_id),
        esc(&r.started_at),
        esc(&r.host_name),
        esc(&r.os),
        esc(&r.cpu_model),
        r.cpu_cores,
        esc(r.git_commit.as_deref().unwrap_or("unknown")),
        if r.git_dirty == Some(true) { " (dirty)" } else { "" }
    );
    h.push_str(
        "<h2>Backends</h2><table><tr><th class=l>backend</th><th class=l>browser</th><th class=l>adapter</th><th class=l>kind</th></tr>",
    );
    for e in &view.envs {
        let kind = match (&e.unavailable_reason, e.software_adapter) {
            (Some(reason), _) => format!("<span class=bad>unavailable</span>: {}", esc(reason)),
            (None, true) => "<span class=sw>software adapter (CPU emulation — not a GPU figure)</span>".into(),
            // Ours reports "cpu"; comparison runtimes "<runtime>-cpu" or "<runtime>-wasm".
            (None, false) if e.adapter_backend == "cpu" || e.adapter_backend.ends_with("-cpu") || e.adapter_backend.ends_with("-wasm") => {
                "CPU kernels (no GPU involved)".into()
            }
            (None, false) => "hardware GPU".into(),
        };
        let mut browser = match (&e.browser, &e.browser_version) {
            (Some(b), Some(v)) => format!("{b} {v}"),
            (Some(b), None) => b.clone(),
            _ => "-".into(),
        };
        if let Some(node) = &e.webdriver_node {
            browser.push_str(&format!(" on grid node {node}"));
        }
        let _ = write!(
            h,
            "<tr><td class=l>{}</td><td class=l>{}</td><td class=l>{} ({})</td><td class=l>{kind}</td></tr>",
            esc(&e.backend),
            esc(&browser),
            esc(&e.adapter_name),
            esc(&e.adapter_backend)
        );
    }
    h.push_str("</table>");
    for (kernel, shape) in view.case_keys() {
        let _ = write!(h, "<h2>{} {}</h2>", esc(&kernel), esc(&shape));
        h.push_str(&bar_chart(view, &kernel, &shape));
        case_table(&mut h, view, &kernel, &shape);
    }
    h.push_str(&super::compat_html::compat_section(&view.compat));
    h.push_str(
        "<p class=note>Medians over the timed samples after warm-up; ±MAD is the median absolute deviation. \
        Every output was checked against an independent f64 reference before it was recorded (for a backend that rounds activations to 8 bits, as candle's quantized LLaMA does, one with that rounding). \
        Bars in orange ran on a software adapter and are not GPU figures.</p></body></html>",
    );
    h
}

fn case_table(h: &mut String, view: &RunView, kernel: &str, shape: &str) {
    let baseline = view.baseline_ms(kernel, shape);
    h.push_str("<table><tr><th class=l>backend</th><th>median ms</th><th>p90 ms</th><th>±MAD</th><th>GFLOP/s</th><th>vs native-cpu</th><th>max abs err</th><th>samples</th><th class=l>status</th></tr>");
    for c in view.cases.iter().filter(|c| c.kernel == kernel && c.shape == shape) {
        let num = |v: Option<f64>, d: usize| v.map(|v| format!("{v:.d$}")).unwrap_or_else(|| "-".into());
        let ratio = match (c.median_ms, baseline) {
            (Some(m), Some(b)) if c.status == "ok" && m > 0.0 => format!("{:.2}×", b / m),
            _ => "-".into(),
        };
        let status = match c.status.as_str() {
            "ok" => "ok".to_string(),
            other => format!("<span class=bad>{}</span> {}", esc(other), esc(c.error.as_deref().unwrap_or(""))),
        };
        let soft = if view.is_software(c.env_id) { " <span class=sw>(software)</span>" } else { "" };
        let _ = write!(
            h,
            "<tr><td class=l>{}{soft}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{ratio}</td><td>{}</td><td>{}</td><td class=l>{status}</td></tr>",
            esc(&view.env_label(c.env_id)),
            num(c.median_ms, 3),
            num(c.p90_ms, 3),
            num(c.mad_ms, 3),
            num(c.gflops, 2),
            c.max_abs_err.map(|e| format!("{e:.1e}")).unwrap_or_else(|| "-".into()),
            c.sample_count
        );
    }
    h.push_str("</table>");
}

/// Horizontal bars of median time (log scale: backends differ by orders of magnitude).
fn bar_chart(view: &RunView, kernel: &str, shape: &str) -> String {
    let bars: Vec<(String, f64, bool)> = view
        .cases
        .iter()
        .filter(|c| c.kernel == kernel && c.shape == shape && c.status == "ok")
        .filter_map(|c| c.median_ms.map(|m| (view.env_label(c.env_id), m, view.is_software(c.env_id))))
        .collect();
    if bars.is_empty() {
        return "<p class=note>no successful samples to chart</p>".into();
    }
    let (label_w, bar_w, row_h) = (260.0, 420.0, 22.0);
    let max = bars.iter().map(|b| b.1).fold(f64::MIN, f64::max).max(1e-6);
    let min = bars.iter().map(|b| b.1).fold(f64::MAX, f64::min).max(1e-6);
    let (lo, hi) = ((min / 2.0).log10(), max.log10().max((min / 2.0).log10() + 1e-9));
    let height = row_h * bars.len() as f64 + 24.0;
    let mut s = format!(
        "<svg xmlns='http://www.w3.org/2000/svg' width='{}' height='{height}' role='img' aria-label='median ms per backend'>",
        label_w + bar_w + 90.0
    );
    for (i, (label, ms, software)) in bars.iter().enumerate() {
        let y = i as f64 * row_h + 4.0;
        let w = ((ms.log10() - lo) / (hi - lo) * bar_w).max(2.0);
        let color = if *software { "#e08a1e" } else { "#3b6fb6" };
        let _ = write!(
            s,
            "<text x='{}' y='{}' text-anchor='end' font-size='12'>{}</text><rect x='{label_w}' y='{y}' width='{w:.1}' height='{}' fill='{color}'/><text x='{}' y='{}' font-size='12'>{ms:.3} ms</text>",
            label_w - 6.0,
            y + 14.0,
            esc(label),
            row_h - 6.0,
            label_w + w + 4.0,
            y + 14.0
        );
    }
    let _ = write!(s, "<text x='{label_w}' y='{}' font-size='11' fill='#555'>median ms, log scale</text></svg>", height - 4.0);
    s
}
