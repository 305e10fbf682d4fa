//! What the server served (path, range, status), so tests and benchmarks can tell a load
//! that came from the browser's cache from one that went to the network.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use serde::Serialize;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ServedRequest {
    pub path: String,
    /// The Range header, if the request had one.
    pub range: Option<String>,
    pub status: u16,
}

#[derive(Clone, Default)]
pub(super) struct RequestLog(Arc<Mutex<Vec<ServedRequest>>>);

impl RequestLog {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<ServedRequest>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn snapshot(&self) -> Vec<ServedRequest> {
        self.lock().clone()
    }
}

pub(super) async fn record(State(log): State<RequestLog>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let range = request.headers().get(axum::http::header::RANGE).and_then(|v| v.to_str().ok()).map(str::to_string);
    let response = next.run(request).await;
    log.lock().push(ServedRequest { path, range, status: response.status().as_u16() });
    response
}
