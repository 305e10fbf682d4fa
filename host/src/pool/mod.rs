//! A pool of real browser sessions running models side by side: requests are placed on a
//! healthy, able slot, bounded per slot, timed out if a browser hangs, and retried on another
//! slot if its browser dies — each request ends with its result or a clear error, never lost.
//! A failed slot is taken out (circuit breaker), relaunched in the background, and put back.

mod drive;
mod health;
mod placement;
mod slot;

pub use drive::{drive, DriveReport, Faults};
pub use health::{Health, State};
pub use placement::{Candidate, Need, Placement};
pub use slot::{Capabilities, Slot};

use crate::browser::{detect_all, BrowserKind};
use crate::error::{HostError, Result};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// Browsers to start, one slot each (e.g. [Chromium, Chromium, Firefox]).
    pub browsers: Vec<BrowserKind>,
    /// Requests a slot runs at once (WebDriver runs one script per session at a time).
    pub per_slot: usize,
    /// Longest a request may take in a browser before the browser counts as hung.
    pub call_timeout: Duration,
    /// Tries per request (each on another slot when one fails).
    pub attempts: u32,
    /// How long a request waits for any slot to be back before failing.
    pub wait_for_slot: Duration,
    pub placement: Placement,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            browsers: vec![BrowserKind::Chromium, BrowserKind::Chromium],
            per_slot: 1,
            call_timeout: Duration::from_secs(120),
            attempts: 6,
            wait_for_slot: Duration::from_secs(90),
            placement: Placement::default(),
        }
    }
}

/// An embedding request: a model (base URL on the runner server) and texts.
#[derive(Debug, Clone)]
pub struct EmbedRequest {
    pub model_url: String,
    pub weights: Option<String>,
    pub device: String,
    pub model_type: String,
    pub texts: Vec<String>,
}

impl EmbedRequest {
    pub fn new(model_url: &str, texts: Vec<String>) -> EmbedRequest {
        EmbedRequest { model_url: model_url.into(), weights: None, device: "cpu".into(), model_type: "text-embedding".into(), texts }
    }
}

#[derive(Debug, Clone)]
pub struct EmbedOutcome {
    pub embeddings: Vec<Vec<f32>>,
    /// The slot that answered, and how many tries it took.
    pub slot: usize,
    pub attempts: u32,
    pub latency_ms: f64,
}

pub struct BrowserPool {
    slots: Vec<Arc<Slot>>,
    config: PoolConfig,
    node_trips: Arc<std::sync::Mutex<Vec<String>>>,
}

impl BrowserPool {
    /// Launch every configured browser (concurrently) against the runner at `runner_url`.
    pub async fn start(config: PoolConfig, runner_url: &str) -> Result<BrowserPool> {
        if config.browsers.is_empty() {
            return Err(HostError::Invalid("pool: no browser sessions to start (a pool needs at least one)".into()));
        }
        let installs = detect_all();
        let mut launches = Vec::new();
        for (id, kind) in config.browsers.iter().enumerate() {
            let install = installs
                .iter()
                .find(|d| d.kind == *kind)
                .and_then(|d| d.install.clone().ok())
                .ok_or_else(|| HostError::Invalid(format!("pool: {} is not installed here", kind.name())))?;
            launches.push(Slot::launch(id, install, runner_url, config.per_slot));
        }
        let slots = futures_util::future::join_all(launches).await.into_iter().collect::<Result<Vec<_>>>()?;
        Ok(BrowserPool { slots: slots.into_iter().map(Arc::new).collect(), config, node_trips: Arc::default() })
    }

    pub fn slots(&self) -> &[Arc<Slot>] {
        &self.slots
    }

    /// Run one request to completion: on a browser failure the slot is restarted in the
    /// background and the request retried on the best other slot.
    pub async fn embed(&self, request: &EmbedRequest) -> Result<EmbedOutcome> {
        let started = Instant::now();
        let need = Need { device: &request.device, model_type: &request.model_type };
        let args =
            vec![request.model_url.clone().into(), json!(request.texts), json!({ "device": request.device, "weights": request.weights })];
        let mut failed_on = Vec::new();
        let mut last_error = None;
        let mut attempt = 0;
        while attempt < self.config.attempts.max(1) {
            let slot = self.wait_for_slot(&need, &failed_on).await?;
            attempt += 1;
            match slot.call("poolEmbed", args.clone(), self.config.call_timeout).await {
                Ok(reply) => {
                    return Ok(EmbedOutcome {
                        embeddings: floats(&reply["embeddings"]),
                        slot: slot.id,
                        attempts: attempt,
                        latency_ms: started.elapsed().as_secs_f64() * 1e3,
                    })
                }
                Err(e @ HostError::Page { .. }) => return Err(e),
                // Not tried: the slot failed while the request queued for it.
                Err(HostError::SlotUnavailable(_)) => attempt -= 1,
                Err(e) => {
                    restart_in_background(slot);
                    self.check_node_of(slot);
                    failed_on.push(slot.id);
                    last_error = Some(e);
                    // Every slot failed this request once: allow them again (restarted by now).
                    if failed_on.len() >= self.slots.len() {
                        failed_on.clear();
                    }
                }
            }
        }
        Err(HostError::Invalid(format!(
            "pool: request failed after {} tries; last error: {}",
            self.config.attempts,
            last_error.map(|e| e.to_string()).unwrap_or_default()
        )))
    }

    /// The best able slot, waiting (up to `wait_for_slot`) while every able slot is out.
    async fn wait_for_slot(&self, need: &Need<'_>, avoid: &[usize]) -> Result<&Arc<Slot>> {
        let deadline = Instant::now() + self.config.wait_for_slot;
        loop {
            if let Some(slot) = self.config.placement.rank(&self.slots, need, avoid).first() {
                return Ok(slot);
            }
            if Instant::now() >= deadline {
                return Err(HostError::Invalid(format!(
                    "pool: no slot can take a {} request (all failed, restarting, or without the capability)",
                    need.device
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The node breaker: when a slot on a grid node fails, ask the node itself; if it does not
    /// answer, every slot on it is out at once (their requests go elsewhere without each waiting
    /// for its own failure) and relaunched, which the grid places on the nodes still alive.
    fn check_node_of(&self, slot: &Arc<Slot>) {
        let Some(node) = slot.node() else { return };
        let on_node: Vec<Arc<Slot>> = self.slots.iter().filter(|s| s.node().as_deref() == Some(node.as_str())).cloned().collect();
        let trips = Arc::clone(&self.node_trips);
        tokio::spawn(async move {
            if crate::json_get::get_json(&format!("{node}/status")).await.is_ok() {
                return;
            }
            // Every request that failed on the node asks; the node is recorded once.
            let mut tripped = trips.lock().unwrap_or_else(|p| p.into_inner());
            if !tripped.contains(&node) {
                tripped.push(node.clone());
            }
            drop(tripped);
            // A peer restarted while the node was asked may already be elsewhere: leave it be.
            for peer in on_node.into_iter().filter(|p| p.node().as_deref() == Some(node.as_str())) {
                if peer.health().available() {
                    peer.health().record_failure();
                }
                restart_in_background(&peer);
            }
        });
    }

    /// Grid nodes found dead by the node breaker, in the order it tripped.
    pub fn node_trips(&self) -> Vec<String> {
        self.node_trips.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Kill slot `id`'s browser processes, as a crash would (fault injection).
    pub async fn kill_browser(&self, id: usize) -> usize {
        match self.slots.get(id) {
            Some(s) => s.kill_browser().await,
            None => 0,
        }
    }

    pub async fn shutdown(self) {
        for s in &self.slots {
            s.close().await;
        }
    }
}

/// Relaunch a failed slot's browser once, without blocking the request that noticed.
fn restart_in_background(slot: &Arc<Slot>) {
    // Only one relaunch at a time per slot: later failures find it under way.
    if slot.restarting.swap(true, std::sync::atomic::Ordering::SeqCst) {
        return;
    }
    let slot = Arc::clone(slot);
    tokio::spawn(async move {
        loop {
            let retry_at = slot.health().retry_at();
            let Some(at) = retry_at else { break };
            tokio::time::sleep_until(at.into()).await;
            if slot.restart().await.is_ok() {
                break;
            }
            slot.health().record_failure();
        }
        slot.restarting.store(false, std::sync::atomic::Ordering::SeqCst);
    });
}

fn floats(v: &Value) -> Vec<Vec<f32>> {
    v.as_array()
        .map(|rows| {
            rows.iter()
                .map(|r| r.as_array().map(|a| a.iter().filter_map(Value::as_f64).map(|x| x as f32).collect()).unwrap_or_default())
                .collect()
        })
        .unwrap_or_default()
}
