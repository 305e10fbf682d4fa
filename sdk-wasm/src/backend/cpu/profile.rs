//! Where CPU time goes, per op: while on, every CPU op `dispatch!` runs is timed and summed
//! by name. CPU ops run synchronously, so a wall-clock interval is the op's whole cost
//! (threads included). Off by default: one relaxed atomic load per op.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

static ON: AtomicBool = AtomicBool::new(false);
static TOTALS: Mutex<BTreeMap<String, OpTotal>> = Mutex::new(BTreeMap::new());

/// Calls and milliseconds of one op name.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct OpTotal {
    pub calls: u64,
    pub ms: f64,
}

/// Start (or restart) collecting, from zero.
pub fn begin() {
    if let Ok(mut totals) = TOTALS.lock() {
        totals.clear();
    }
    ON.store(true, Ordering::Relaxed);
}

/// Stop collecting; the totals by op name.
pub fn take() -> BTreeMap<String, OpTotal> {
    ON.store(false, Ordering::Relaxed);
    TOTALS.lock().map(|mut t| std::mem::take(&mut *t)).unwrap_or_default()
}

/// When on, the clock at an op's start.
pub fn start() -> Option<f64> {
    ON.load(Ordering::Relaxed).then(crate::clock::now_ms)
}

/// Add the time since `started` to `op`'s total.
pub fn record(op: &str, started: Option<f64>) {
    let Some(started) = started else { return };
    let ms = crate::clock::now_ms() - started;
    if let Ok(mut totals) = TOTALS.lock() {
        let total = totals.entry(op.to_string()).or_default();
        total.calls += 1;
        total.ms += ms;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_are_summed_by_name_only_while_on() {
        record("matmul", start());
        begin();
        for _ in 0..3 {
            record("matmul", start());
        }
        record("softmax", start());
        let totals = take();
        record("matmul", start());
        assert_eq!(totals.get("matmul").map(|t| t.calls), Some(3));
        assert_eq!(totals.get("softmax").map(|t| t.calls), Some(1));
        assert!(take().is_empty(), "nothing is kept once off");
    }
}
