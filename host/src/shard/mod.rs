//! One model split over several browser sessions: each serves a contiguous range of layers,
//! and loads only those layers' weights (tensor by tensor, by CID); the host passes the activations from stage to stage over loopback WebSockets (binary
//! frames, a per-run token). When a stage's browser dies, it is relaunched and the request
//! continues from that stage's input — the stages before it are not run again.

mod pipeline;
mod plan;

pub use plan::{balanced, check_budget, within_budget, PartSizes};

use crate::browser::{BrowserInstall, BrowserSession};
use crate::error::{HostError, Result};
use crate::server::{RunnerServer, ShardHub};
use axum::extract::ws::{Message, WebSocket};
use serde::Deserialize;
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Tries per stage of one request (each after relaunching the stage's browser).
const STAGE_ATTEMPTS: u32 = 3;

/// Texts per sharded request; more are refused (callers split them), which bounds the
/// largest message a stage sends.
pub const MAX_TEXTS_PER_REQUEST: usize = 16;

/// What a sharded model serves, and what each stage may hold.
#[derive(Debug, Clone)]
pub struct ShardSpec {
    /// The model's base URL on the runner server (e.g. `/models/all-minilm-l6-v2/`).
    pub model_url: String,
    /// Inputs truncated to this many tokens (default: the tokenizer's limit).
    pub max_tokens: Option<usize>,
    /// Weight bytes a stage may load: a stage whose part is larger refuses to start.
    pub stage_budget: Option<u64>,
}

impl ShardSpec {
    pub fn new(model_url: &str) -> ShardSpec {
        ShardSpec { model_url: model_url.into(), max_tokens: None, stage_budget: None }
    }
}

/// What a stage's page said it holds once its part was loaded.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StageReport {
    /// Bytes of the weight file's tensors the stage fetched (its layers only).
    pub part_bytes: f64,
    /// Bytes that came over the network for this load (0 when all came from its cache).
    pub network_bytes: f64,
    /// Bytes its weight tensors take in memory.
    pub held_bytes: f64,
    /// The page's wasm memory after the load (its peak heap so far).
    pub wasm_memory_bytes: f64,
}

struct Stage {
    layers: Range<usize>,
    last: bool,
    report: Option<StageReport>,
    session: Option<BrowserSession>,
    socket: Option<WebSocket>,
    inbox: mpsc::UnboundedReceiver<WebSocket>,
}

/// What one sharded request did.
#[derive(Debug, Clone, Default)]
pub struct ShardRun {
    pub embeddings: Vec<Vec<f32>>,
    pub latency_ms: f64,
    /// Stages relaunched during this request, and the time each relaunch took.
    pub recoveries_ms: Vec<f64>,
}

pub struct ShardedModel {
    stages: Vec<Stage>,
    hub: Arc<ShardHub>,
    token: String,
    runner_url: String,
    /// The server's root, where the stages' WebSockets are.
    base_url: String,
    spec: ShardSpec,
    install: BrowserInstall,
    pub stage_timeout: Duration,
}

impl ShardedModel {
    /// Launch one browser per range of `plan` and have each load and serve its layers of
    /// the model `spec` names.
    pub async fn start(server: &RunnerServer, install: &BrowserInstall, spec: &ShardSpec, plan: Vec<Range<usize>>) -> Result<ShardedModel> {
        let hub = server.shard_hub();
        let token = crate::server::run_token()?;
        let count = plan.len();
        let stages = plan
            .into_iter()
            .enumerate()
            .map(|(i, layers)| Stage {
                layers,
                last: i + 1 == count,
                report: None,
                session: None,
                socket: None,
                inbox: hub.register(&token, i),
            })
            .collect();
        let mut model = ShardedModel {
            stages,
            hub,
            token,
            runner_url: server.url(),
            base_url: server.base_url(),
            spec: spec.clone(),
            install: install.clone(),
            stage_timeout: Duration::from_secs(120),
        };
        for i in 0..count {
            model.launch(i).await?;
        }
        Ok(model)
    }

    pub fn stages(&self) -> Vec<Range<usize>> {
        self.stages.iter().map(|s| s.layers.clone()).collect()
    }

    /// What each stage holds, as its page reported after its latest load.
    pub fn stage_reports(&self) -> Vec<Option<StageReport>> {
        self.stages.iter().map(|s| s.report.clone()).collect()
    }

    /// (Re)start stage `i`: a fresh browser that loads the model and connects back.
    async fn launch(&mut self, i: usize) -> Result<()> {
        let url = format!("{}shard/{}/{i}", self.base_url, self.token);
        let stage = &mut self.stages[i];
        if let Some(old) = stage.session.take() {
            old.kill_browser();
            let _ = tokio::time::timeout(Duration::from_secs(5), old.close()).await;
        }
        stage.socket = None;
        let session = BrowserSession::launch(&self.install, &self.runner_url).await?;
        let args = vec![
            url.into(),
            self.spec.model_url.clone().into(),
            stage.layers.start.into(),
            stage.layers.end.into(),
            stage.last.into(),
            self.spec.max_tokens.into(),
            self.spec.stage_budget.into(),
        ];
        let held = match session.call("shardServe", args).await {
            Ok(held) => held,
            Err(e) => {
                // E.g. its part over the budget: the browser is ended, not left behind.
                let _ = tokio::time::timeout(Duration::from_secs(10), session.close()).await;
                return Err(e);
            }
        };
        stage.report = serde_json::from_value(held).ok();
        let socket = tokio::time::timeout(Duration::from_secs(30), stage.inbox.recv()).await.ok().flatten().ok_or_else(|| {
            HostError::Browser { browser: self.install.kind.name().into(), message: format!("shard {i} never connected back") }
        })?;
        stage.session = Some(session);
        stage.socket = Some(socket);
        Ok(())
    }

    /// Embed `texts` through every stage in turn.
    pub async fn embed(&mut self, texts: &[String]) -> Result<ShardRun> {
        check_request(texts)?;
        let started = Instant::now();
        let mut run = ShardRun::default();
        let mut input = texts_frame(texts);
        for i in 0..self.stages.len() {
            let mut attempt = 0;
            let output = loop {
                attempt += 1;
                match self.exchange(i, input.clone()).await {
                    Ok(bytes) => break bytes,
                    Err(e @ HostError::Page { .. }) => return Err(e),
                    Err(e) if attempt >= STAGE_ATTEMPTS => {
                        return Err(HostError::Invalid(format!("shard {i}: failed {attempt} times; last: {e}")));
                    }
                    Err(_) => {
                        // The stage's browser died or hung: relaunch it, retry from this stage.
                        let t = Instant::now();
                        self.launch(i).await?;
                        run.recoveries_ms.push(t.elapsed().as_secs_f64() * 1e3);
                    }
                }
            };
            input = Message::Binary(output.into());
        }
        let Message::Binary(bytes) = input else { return Err(HostError::Invalid("no stage ran".into())) };
        run.embeddings = pooled(&bytes, texts.len())?;
        run.latency_ms = started.elapsed().as_secs_f64() * 1e3;
        Ok(run)
    }

    /// Send one frame to stage `i` and wait for its binary answer.
    async fn exchange(&mut self, i: usize, message: Message) -> Result<Vec<u8>> {
        let browser = format!("{} (shard {i})", self.install.kind.name());
        let timeout = self.stage_timeout;
        match self.stages[i].socket.as_mut() {
            Some(socket) => exchange_on(socket, message, timeout, &browser).await,
            None => Err(HostError::Browser { browser, message: "not connected".into() }),
        }
    }

    /// Process ids of stage `i`'s browser (to kill it while a request runs: fault injection).
    pub fn stage_pids(&self, i: usize) -> Vec<u32> {
        self.stages.get(i).and_then(|s| s.session.as_ref()).map(BrowserSession::browser_pids).unwrap_or_default()
    }

    /// The grid node running stage `i`'s browser, when it runs on a grid.
    pub fn stage_node(&self, i: usize) -> Option<String> {
        self.stages.get(i)?.session.as_ref()?.node.clone()
    }

    pub async fn shutdown(mut self) {
        self.hub.unregister(&self.token);
        for s in &mut self.stages {
            if let Some(session) = s.session.take() {
                let _ = session.close().await;
            }
        }
    }
}

fn check_request(texts: &[String]) -> Result<()> {
    if texts.is_empty() || texts.len() > MAX_TEXTS_PER_REQUEST {
        return Err(HostError::Invalid(format!(
            "a sharded request embeds 1..={MAX_TEXTS_PER_REQUEST} texts (got {}); split larger batches",
            texts.len()
        )));
    }
    Ok(())
}

/// The first stage's input: the texts, as a text frame.
fn texts_frame(texts: &[String]) -> Message {
    Message::Text(serde_json::json!({ "texts": texts }).to_string().into())
}

/// One frame to a stage's socket and its binary answer (a text answer is the page's error).
async fn exchange_on(socket: &mut WebSocket, message: Message, timeout: Duration, browser: &str) -> Result<Vec<u8>> {
    let gone = |why: &str| HostError::Browser { browser: browser.into(), message: why.into() };
    socket.send(message).await.map_err(|e| gone(&format!("sending: {e}")))?;
    loop {
        let reply = tokio::time::timeout(timeout, socket.recv()).await.map_err(|_| gone("no answer in time (hung)"))?;
        match reply {
            Some(Ok(Message::Binary(b))) => return Ok(b.to_vec()),
            Some(Ok(Message::Text(t))) => {
                let error = serde_json::from_str::<serde_json::Value>(&t).ok().and_then(|v| v["error"].as_str().map(String::from));
                return Err(HostError::Page { browser: browser.into(), message: error.unwrap_or_else(|| t.to_string()) });
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(Message::Close(_))) | None => return Err(gone("the connection closed")),
            Some(Err(e)) => return Err(gone(&e.to_string())),
        }
    }
}

/// The last stage's answer for `expected` texts: u32 batch, u32 width, then batch × width f32.
/// The size is computed with checked arithmetic: header values near u32::MAX must not wrap
/// around to a length that matches a short reply.
fn pooled(bytes: &[u8], expected: usize) -> Result<Vec<Vec<f32>>> {
    let bad = |why: &str| {
        HostError::Invalid(format!("last shard answered {} bytes, not pooled embeddings of {expected} texts: {why}", bytes.len()))
    };
    let (Some(head), Some(body)) = (bytes.get(..8), bytes.get(8..)) else { return Err(bad("no 8-byte header")) };
    let batch = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let width = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
    if batch != expected || width == 0 {
        return Err(bad(&format!("header says {batch} × {width}")));
    }
    let size = batch.checked_mul(width).and_then(|n| n.checked_mul(4));
    if size != Some(body.len()) {
        return Err(bad(&format!("{batch} × {width} f32 do not fill {} bytes", body.len())));
    }
    let values: Vec<f32> = body.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    Ok(values.chunks_exact(width).map(<[f32]>::to_vec).collect())
}

#[cfg(test)]
mod tests {
    use super::pooled;

    fn reply(batch: u32, width: u32, values: &[f32]) -> Vec<u8> {
        let mut b = [batch.to_le_bytes(), width.to_le_bytes()].concat();
        values.iter().for_each(|v| b.extend_from_slice(&v.to_le_bytes()));
        b
    }

    #[test]
    fn the_largest_legitimate_stage_message_fits_the_socket_limit() {
        use super::MAX_TEXTS_PER_REQUEST;
        use crate::server::MAX_STAGE_MESSAGE_BYTES;
        // Activations of MiniLM at its longest: the header, then per text 512 positions of
        // 384 f32 values and one u32 mask entry.
        let activations = 16 + MAX_TEXTS_PER_REQUEST * 512 * (384 + 1) * 4;
        assert!(activations <= MAX_STAGE_MESSAGE_BYTES, "{activations}");
        assert!(MAX_STAGE_MESSAGE_BYTES < 4 * activations / 3 + (1 << 20), "the limit should stay near what is needed");
    }

    #[test]
    fn pooled_replies_are_checked_without_overflow() {
        assert_eq!(pooled(&reply(2, 2, &[1.0, 2.0, 3.0, 4.0]), 2).unwrap(), vec![vec![1.0, 2.0], vec![3.0, 4.0]]);
        // 2^31 × 2^31 × 4 = 2^64 wraps to 0 in wrapping arithmetic: an empty body "matched".
        let huge = reply(1 << 31, 1 << 31, &[]);
        assert!(pooled(&huge, 1 << 31).is_err());
        // u32::MAX × u32::MAX × 4 overflows usize too.
        assert!(pooled(&reply(u32::MAX, u32::MAX, &[]), u32::MAX as usize).is_err());
        // Batch must be the number of texts sent; short bodies and headers are refused.
        assert!(pooled(&reply(1, 2, &[1.0, 2.0]), 2).unwrap_err().to_string().contains("1 × 2"));
        assert!(pooled(&reply(2, 2, &[1.0]), 2).is_err());
        assert!(pooled(&[0, 0, 0], 0).is_err());
        assert!(pooled(&reply(1, 0, &[]), 1).is_err());
    }
}
