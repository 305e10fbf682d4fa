//! One pool slot: a browser session (own driver process, fresh profile), its capabilities,
//! its concurrency limit, and its health. A failed session is killed and relaunched here.

use super::health::Health;
use crate::browser::{BrowserInstall, BrowserKind, BrowserSession};
use crate::error::{HostError, Result};
use serde_json::Value;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::{RwLock, Semaphore};

/// What a slot's browser can do, from the runner page's probe.
#[derive(Debug, Clone, Default)]
pub struct Capabilities {
    pub webgpu: bool,
    /// The WebGPU adapter is a CPU emulation (SwiftShader, lavapipe).
    pub software_gpu: bool,
    pub shader_f16: bool,
    pub webnn: bool,
}

pub struct Slot {
    pub id: usize,
    pub kind: BrowserKind,
    install: BrowserInstall,
    runner_url: String,
    session: RwLock<Option<BrowserSession>>,
    permits: Semaphore,
    pub in_flight: AtomicUsize,
    /// A relaunch is under way (only one at a time).
    pub restarting: std::sync::atomic::AtomicBool,
    pub served: AtomicU64,
    pub health: Mutex<Health>,
    pub capabilities: Mutex<Capabilities>,
    /// The grid node its session runs on (None for a local driver); changes on restart.
    node: Mutex<Option<String>>,
    /// Milliseconds each restart kept the slot out of rotation.
    pub recoveries_ms: Mutex<Vec<f64>>,
}

impl Slot {
    pub async fn launch(id: usize, install: BrowserInstall, runner_url: &str, concurrency: usize) -> Result<Slot> {
        let session = BrowserSession::launch(&install, runner_url).await?;
        let capabilities = probe(&session).await;
        let node = Mutex::new(session.node.clone());
        Ok(Slot {
            node,
            id,
            kind: install.kind,
            install,
            runner_url: runner_url.into(),
            session: RwLock::new(Some(session)),
            permits: Semaphore::new(concurrency.max(1)),
            in_flight: AtomicUsize::new(0),
            restarting: std::sync::atomic::AtomicBool::new(false),
            served: AtomicU64::new(0),
            health: Mutex::new(Health::default()),
            capabilities: Mutex::new(capabilities),
            recoveries_ms: Mutex::new(Vec::new()),
        })
    }

    pub fn health(&self) -> std::sync::MutexGuard<'_, Health> {
        self.health.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn node(&self) -> Option<String> {
        self.node.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn capabilities(&self) -> Capabilities {
        self.capabilities.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Call an RPC of this slot's page, waiting for a free place (the concurrency limit) and
    /// at most `timeout` for the answer. A transport failure or timeout marks the slot failed.
    pub async fn call(&self, method: &str, args: Vec<Value>, timeout: Duration) -> Result<Value> {
        let _permit = self.permits.acquire().await.map_err(|_| self.gone("the slot was shut down"))?;
        // It may have failed while this request queued for it: then the request goes elsewhere.
        if !self.health().available() {
            return Err(HostError::SlotUnavailable(self.id));
        }
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        let result = {
            let session = self.session.read().await;
            match session.as_ref() {
                None => Err(self.gone("no browser session (restarting)")),
                Some(s) => match tokio::time::timeout(timeout, s.call(method, args)).await {
                    Ok(r) => r,
                    Err(_) => Err(self.gone(&format!("no answer to {method} within {timeout:?} (hung)"))),
                },
            }
        };
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        match &result {
            Ok(_) => {
                self.health().record_success();
                self.served.fetch_add(1, Ordering::SeqCst);
            }
            // The page rejected the request: the request's fault, the browser is fine.
            Err(HostError::Page { .. }) => self.health().record_success(),
            Err(_) => self.health().record_failure(),
        }
        result
    }

    fn gone(&self, why: &str) -> HostError {
        HostError::Browser { browser: format!("{} (pool slot {})", self.kind.name(), self.id), message: why.into() }
    }

    /// Replace the session: kill what is left of the old browser, launch a fresh one.
    pub async fn restart(&self) -> Result<()> {
        let mut session = self.session.write().await;
        if let Some(old) = session.take() {
            old.kill_browser();
            let _ = tokio::time::timeout(Duration::from_secs(5), old.close()).await;
        }
        let fresh = BrowserSession::launch(&self.install, &self.runner_url).await?;
        *self.capabilities.lock().unwrap_or_else(|p| p.into_inner()) = probe(&fresh).await;
        *self.node.lock().unwrap_or_else(|p| p.into_inner()) = fresh.node.clone();
        *session = Some(fresh);
        drop(session);
        if let Some(out) = self.health().restarted() {
            self.recoveries_ms.lock().unwrap_or_else(|p| p.into_inner()).push(out.as_secs_f64() * 1e3);
        }
        Ok(())
    }

    /// Kill this slot's browser processes (fault injection). How many were signalled.
    pub async fn kill_browser(&self) -> usize {
        self.session.read().await.as_ref().map_or(0, BrowserSession::kill_browser)
    }

    pub async fn close(&self) {
        if let Some(s) = self.session.write().await.take() {
            let _ = s.close().await;
        }
    }
}

async fn probe(session: &BrowserSession) -> Capabilities {
    let Ok(p) = session.call("probe", vec![]).await else { return Capabilities::default() };
    let gpu = &p["webgpu"];
    let features: Vec<&str> = gpu["features"].as_array().map(|f| f.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    let identity = ["vendor", "architecture", "description", "device"].map(|k| gpu[k].as_str().unwrap_or_default().to_string());
    let identity: Vec<&str> = identity.iter().map(String::as_str).collect();
    Capabilities {
        webgpu: gpu["available"].as_bool().unwrap_or(false),
        software_gpu: ipfs_accelerate::device::is_software_adapter(gpu["isFallbackAdapter"].as_bool().unwrap_or(false), &identity),
        shader_f16: features.contains(&"shader-f16"),
        webnn: p["webnn"]["context"].as_bool().unwrap_or(false),
    }
}
