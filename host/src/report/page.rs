//! What every page of the reports shares: the stylesheet and HTML escaping.

pub const CSS: &str = "body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}\
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}td.l,th.l{text-align:left}\
.sw{color:#a15c00;font-weight:600}.bad{color:#b00020;font-weight:600}h2{margin-top:2em}.note{color:#555}";

pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
