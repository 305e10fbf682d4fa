//! The per-op CPU profile a runner call answers (`{ ops: { name: { calls, ms } }, totalMs }`):
//! printed slowest first, and checked against the call's wall time.

use serde_json::{Map, Value};

/// Prints the ops slowest first and asserts that their summed time is at most the reply's
/// `totalMs` (CPU ops run one after another) and at least half of it. Returns the ops.
pub fn printed_and_within_wall_time(reply: &Value) -> &Map<String, Value> {
    let ops = reply["ops"].as_object().unwrap_or_else(|| panic!("{reply}"));
    let mut rows: Vec<(&String, f64, u64)> =
        ops.iter().map(|(name, t)| (name, t["ms"].as_f64().unwrap(), t["calls"].as_u64().unwrap())).collect();
    rows.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (name, ms, calls) in &rows {
        eprintln!("{name:>12} {ms:9.1} ms {calls:5} calls");
    }
    let summed: f64 = rows.iter().map(|r| r.1).sum();
    let wall = reply["totalMs"].as_f64().unwrap();
    assert!(summed <= wall && summed >= 0.5 * wall, "ops {summed:.1} ms of {wall:.1} ms wall");
    ops
}
