//! Which slot takes a request: one that is healthy and able (WebGPU when the request needs
//! it), then the browser the user prefers for this model type, then the browser that ran this
//! model fastest so far (history from DuckDB), then the least busy grid node (every slot on a
//! node shares its machine), then the least busy slot.

use super::slot::Slot;
use crate::browser::BrowserKind;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

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

/// A slot as placement sees it.
#[derive(Debug, Clone, Copy)]
pub struct Candidate {
    pub id: usize,
    pub kind: BrowserKind,
    pub available: bool,
    pub webgpu: bool,
    pub in_flight: usize,
    /// Requests in flight on every slot of the same grid node (its own when local).
    pub node_load: usize,
}

impl Placement {
    /// Browsers ranked by a store's history of `kernel`/`shape` on `backend` (fastest first).
    pub fn with_history(mut self, ranked: &[(String, f64)]) -> Placement {
        self.history = ranked.iter().filter_map(|(browser, _)| BrowserKind::parse(browser)).collect();
        self
    }

    /// Slots able to take `need` now, best first; `avoid` are slots this request already failed on.
    pub fn rank<'a>(&self, slots: &'a [Arc<Slot>], need: &Need, avoid: &[usize]) -> Vec<&'a Arc<Slot>> {
        let nodes: Vec<(Option<String>, usize)> = slots.iter().map(|s| (s.node(), s.in_flight.load(Ordering::SeqCst))).collect();
        let candidates: Vec<Candidate> = slots
            .iter()
            .zip(&nodes)
            .map(|(s, (node, in_flight))| Candidate {
                id: s.id,
                kind: s.kind,
                available: s.health().available(),
                webgpu: s.capabilities().webgpu,
                in_flight: *in_flight,
                node_load: match node {
                    Some(node) => nodes.iter().filter(|(n, _)| n.as_ref() == Some(node)).map(|(_, f)| f).sum(),
                    None => *in_flight,
                },
            })
            .collect();
        self.order(&candidates, need, avoid).into_iter().filter_map(|id| slots.iter().find(|s| s.id == id)).collect()
    }

    /// The ids of `candidates` that can take `need`, best first.
    pub fn order(&self, candidates: &[Candidate], need: &Need, avoid: &[usize]) -> Vec<usize> {
        let preferred = self.preferences.get(need.model_type).copied();
        let mut able: Vec<&Candidate> =
            candidates.iter().filter(|c| c.available && !avoid.contains(&c.id) && (need.device != "webgpu" || c.webgpu)).collect();
        able.sort_by_key(|c| {
            let history_rank = self.history.iter().position(|k| *k == c.kind).unwrap_or(self.history.len());
            (preferred.is_some_and(|p| p != c.kind), history_rank, c.node_load, c.in_flight, c.id)
        });
        able.into_iter().map(|c| c.id).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(id: usize, kind: BrowserKind, in_flight: usize) -> Candidate {
        Candidate { id, kind, available: true, webgpu: kind == BrowserKind::Firefox, in_flight, node_load: in_flight }
    }

    #[test]
    fn capability_then_preference_then_history_then_load() {
        let slots = [c(0, BrowserKind::Chromium, 2), c(1, BrowserKind::Chromium, 0), c(2, BrowserKind::Firefox, 5)];
        let text = Need { device: "cpu", model_type: "text-embedding" };
        // No preference, no history: least busy first.
        assert_eq!(Placement::default().order(&slots, &text, &[]), [1, 0, 2]);
        // History says Firefox ran this model fastest: it goes first even though busy.
        let history = Placement::default().with_history(&[("firefox".into(), 10.0), ("chromium".into(), 20.0)]);
        assert_eq!(history.order(&slots, &text, &[]), [2, 1, 0]);
        // An explicit preference beats history.
        let mut prefs = history.clone();
        prefs.preferences.insert("text-embedding".into(), BrowserKind::Chromium);
        assert_eq!(prefs.order(&slots, &text, &[]), [1, 0, 2]);
        // WebGPU requests only go where WebGPU is; failed or avoided slots are skipped.
        let gpu = Need { device: "webgpu", model_type: "text-embedding" };
        assert_eq!(prefs.order(&slots, &gpu, &[]), [2]);
        let mut down = slots;
        down[1].available = false;
        assert_eq!(Placement::default().order(&down, &text, &[0]), [2]);
    }

    #[test]
    fn between_equal_slots_the_less_busy_grid_node_wins() {
        // Slots 0 and 1 share a node carrying 3 requests; slot 2 is alone on an idle node.
        let mut slots = [c(0, BrowserKind::Chromium, 0), c(1, BrowserKind::Chromium, 3), c(2, BrowserKind::Chromium, 1)];
        slots[0].node_load = 3;
        slots[1].node_load = 3;
        let text = Need { device: "cpu", model_type: "text-embedding" };
        assert_eq!(Placement::default().order(&slots, &text, &[]), [2, 0, 1]);
    }
}
