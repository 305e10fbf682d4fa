//! examples/semantic-search: load MiniLM, index the shipped sentences, search by meaning;
//! visited twice, so the second visit shows whether the weights came from IndexedDB.

use super::Page;
use crate::browser::BrowserSession;
use crate::Result;
use serde::Serialize;
use std::path::Path;
use std::time::Duration;

/// Loading the model and embedding a few hundred sentences on a slow CPU.
const READY_TIMEOUT: Duration = Duration::from_secs(300);
const RESULTS_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Serialize)]
pub struct SearchVisit {
    /// What the page says once ready (where the model came from, how long it took).
    pub status: String,
    /// "network" or "indexeddb", as the page worked it out from the load report.
    pub origin: String,
    pub network_bytes: u64,
    /// `Accelerator.create` (the engine Worker and its wasm build started).
    pub create_ms: f64,
    pub load_ms: f64,
    /// From navigation to a searchable page (model loaded, sentences indexed).
    pub ready_ms: f64,
    /// The engine's wasm build ("threads-relaxed", "simd", …).
    pub build: String,
    /// The sentences found for the query, best first.
    pub results: Vec<String>,
}

/// Open the app at `app_url` (with `?model=…&device=…` as wanted) twice, searching for `query`
/// each time; a screenshot of the second visit goes to `screenshot`.
pub async fn use_semantic_search(
    session: &BrowserSession,
    app_url: &str,
    query: &str,
    screenshot: Option<&Path>,
) -> Result<[SearchVisit; 2]> {
    let page = Page::of(session)?;
    let first = visit(&page, app_url, query).await?;
    let second = visit(&page, app_url, query).await?;
    if let Some(path) = screenshot {
        page.screenshot(path).await?;
    }
    Ok([first, second])
}

async fn visit(page: &Page<'_>, url: &str, query: &str) -> Result<SearchVisit> {
    page.open(url).await?;
    let status = page.wait_for_state("#status", "ready", READY_TIMEOUT).await?;
    let number = |v: Option<String>| v.and_then(|s| s.parse::<f64>().ok()).unwrap_or(f64::NAN);
    let origin = page.attr("#status", "data-origin").await?.unwrap_or_default();
    let network_bytes = number(page.attr("#status", "data-network-bytes").await?) as u64;
    let create_ms = number(page.attr("#status", "data-create-ms").await?);
    let load_ms = number(page.attr("#status", "data-load-ms").await?);
    let ready_ms = number(page.attr("#status", "data-ready-ms").await?);
    let build = page.attr("#status", "data-build").await?.unwrap_or_default();
    page.type_into("#query", query).await?;
    page.click("#go").await?;
    page.wait_for("#results li .text", RESULTS_TIMEOUT).await?;
    let results = page.texts("#results li .text").await?;
    Ok(SearchVisit { status, origin, network_bytes, create_ms, load_ms, ready_ms, build, results })
}
