//! What the server served (path, range, status), so tests and benchmarks can tell a load
//! that came from the browser's cache from one that went to the network.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// Entries kept: the newest, as a ring (a long-running server must not grow without bound).
pub(super) const MAX_ENTRIES: usize = 4096;
/// Longer paths and Range headers are stored cut to this many bytes (on a char boundary).
pub(super) const MAX_FIELD_BYTES: usize = 512;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ServedRequest {
    pub path: String,
    /// The Range header, if the request had one.
    pub range: Option<String>,
    pub status: u16,
}

#[derive(Clone, Default)]
pub(super) struct RequestLog(Arc<Mutex<VecDeque<ServedRequest>>>);

impl RequestLog {
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<ServedRequest>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The last `MAX_ENTRIES` requests, oldest first.
    pub(super) fn snapshot(&self) -> Vec<ServedRequest> {
        self.lock().iter().cloned().collect()
    }

    fn push(&self, path: &str, range: Option<&str>, status: u16) {
        let entry = ServedRequest { path: cut(path), range: range.map(cut), status };
        let mut log = self.lock();
        if log.len() >= MAX_ENTRIES {
            log.pop_front();
        }
        log.push_back(entry);
    }
}

/// `s`, cut to at most `MAX_FIELD_BYTES` bytes on a char boundary, marked with "…" if cut.
fn cut(s: &str) -> String {
    if s.len() <= MAX_FIELD_BYTES {
        return s.to_string();
    }
    let end = (0..=MAX_FIELD_BYTES - '…'.len_utf8()).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
    format!("{}…", &s[..end])
}

pub(super) async fn record(State(log): State<RequestLog>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let range = request.headers().get(axum::http::header::RANGE).and_then(|v| v.to_str().ok()).map(str::to_string);
    let response = next.run(request).await;
    log.push(&path, range.as_deref(), response.status().as_u16());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_is_a_bounded_ring_of_bounded_entries() {
        let log = RequestLog::default();
        for i in 0..MAX_ENTRIES + 100 {
            log.push(&format!("/p/{i}"), None, 200);
        }
        let entries = log.snapshot();
        assert_eq!(entries.len(), MAX_ENTRIES);
        assert_eq!(entries[0].path, "/p/100");
        assert_eq!(entries[MAX_ENTRIES - 1].path, format!("/p/{}", MAX_ENTRIES + 99));
        let long = format!("/{}", "é".repeat(100_000));
        log.push(&long, Some(&"9".repeat(100_000)), 404);
        let last = log.snapshot().pop().unwrap();
        assert!(last.path.len() <= MAX_FIELD_BYTES && last.path.ends_with('…') && last.path.starts_with("/é"), "{}", last.path.len());
        assert!(last.range.is_some_and(|r| r.len() <= MAX_FIELD_BYTES));
    }
}
