//! Which slot takes a request: one that is healthy and able (WebGPU when the request needs
//! it), then the browser the user prefers for this model type, then the browser that ran this
//! model fastest so far (history from DuckDB), then the least busy.

use super::slot::Slot;
use crate::browser::BrowserKind;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

/// What placement needs to know about a request.
pub struct Need<'a> {
    /// "cpu" or "webgpu".
    pub device: &'a str,
    /// The model's type ("text-embedding", "audio", …) for explicit preferences.
    pub model_type: &'a str,
}

#[derive(Debug, Clone, Default)]
pub struct Placement {
    /// model type → preferred browser (e.g. audio → firefox).
    pub preferences: BTreeMap<String, BrowserKind>,
    /// Browsers by measured speed on this model, fastest first.
    pub history: Vec<BrowserKind>,
}

impl Placement {
    /// Slots able to take `need` now, best first; `avoid` are slots this request already failed on.
    pub fn rank<'a>(&self, slots: &'a [std::sync::Arc<Slot>], need: &Need, avoid: &[usize]) -> Vec<&'a std::sync::Arc<Slot>> {
        let preferred = self.preferences.get(need.model_type).copied();
        let mut able: Vec<&std::sync::Arc<Slot>> = slots
            .iter()
            .filter(|s| s.health().available() && !avoid.contains(&s.id))
            .filter(|s| need.device != "webgpu" || s.capabilities().webgpu)
            .collect();
        able.sort_by_key(|s| {
            let history_rank = self.history.iter().position(|k| *k == s.kind).unwrap_or(self.history.len());
            (preferred.is_some_and(|p| p != s.kind), history_rank, s.in_flight.load(Ordering::SeqCst), s.id)
        });
        able
    }
}
