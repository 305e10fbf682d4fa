//! The report's compatibility matrix: every model (or kernel) × dtype against every browser ×
//! backend the database has seen, from each pair's newest run.

use super::page::esc;
use crate::analysis::compat::{Compat, CompatMatrix};
use std::fmt::Write;

pub fn compat_section(m: &CompatMatrix) -> String {
    let mut h = String::from("<h2>Compatibility (every run in this database)</h2>");
    if m.rows.is_empty() {
        h.push_str("<p class=note>no runs stored yet</p>");
        return h;
    }
    h.push_str("<table><tr><th class=l>model / kernel</th><th class=l>dtype</th>");
    for (browser, backend) in &m.columns {
        let _ = write!(h, "<th class=l>{}<br>{}</th>", esc(browser), esc(backend));
    }
    h.push_str("</tr>");
    for row in &m.rows {
        let _ = write!(h, "<tr><td class=l>{}</td><td class=l>{}</td>", esc(&row.0), esc(&row.1));
        for column in &m.columns {
            let cell = match m.cell(row, column) {
                Some(Compat::Works { run_id }) => format!("<td class=l title='run {}'>works</td>", esc(run_id)),
                Some(Compat::Fails { run_id, error }) => {
                    format!("<td class=l title='run {}'><span class=bad>fails</span>: {}</td>", esc(run_id), esc(error))
                }
                Some(Compat::Unavailable { run_id, reason }) => {
                    format!("<td class=l title='run {}'>unavailable: {}</td>", esc(run_id), esc(reason))
                }
                None => "<td class='l note'>untested</td>".into(),
            };
            h.push_str(&cell);
        }
        h.push_str("</tr>");
    }
    h.push_str("</table><p class=note>Each cell is the newest run that tried the pair; a pair fails when any of its cases in that run failed or gave a wrong output.</p>");
    h
}
