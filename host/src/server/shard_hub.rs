//! The WebSocket endpoint of sharded runs, `/shard/{token}/{stage}`: a run registers its
//! random token and a channel per stage; the page serving a stage connects with that token and
//! its socket is handed to the run. Unknown tokens are refused.

use axum::extract::ws::WebSocket;
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::mpsc;

/// The largest WebSocket message the host accepts from a stage. The largest legitimate one is
/// a stage's `Activations` for a full request: a 16-byte header (magic, 3 u32 dims), then per text
/// `max_position_embeddings` (512 for MiniLM) × (hidden 384 f32 + 1 u32 mask) = 788 480
/// bytes, × 16 texts (`shard::MAX_TEXTS_PER_REQUEST`) = 12.0 MiB; pooled embeddings are far
/// smaller. 16 MiB leaves room for a model a little wider; a page sending more is refused by
/// the socket, not buffered.
pub const MAX_STAGE_MESSAGE_BYTES: usize = 16 << 20;

#[derive(Default)]
pub struct ShardHub {
    waiting: Mutex<HashMap<(String, usize), mpsc::UnboundedSender<WebSocket>>>,
}

impl ShardHub {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, usize), mpsc::UnboundedSender<WebSocket>>> {
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sockets of stage `stage` of run `token` (a reconnect after a restart arrives here too).
    pub fn register(&self, token: &str, stage: usize) -> mpsc::UnboundedReceiver<WebSocket> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.lock().insert((token.to_string(), stage), tx);
        rx
    }

    /// Forget every stage of run `token`.
    pub fn unregister(&self, token: &str) {
        self.lock().retain(|(t, _), _| t != token);
    }

    pub(super) fn knows(&self, token: &str, stage: usize) -> bool {
        self.lock().contains_key(&(token.to_string(), stage))
    }

    pub(super) fn deliver(&self, token: &str, stage: usize, socket: WebSocket) {
        if let Some(tx) = self.lock().get(&(token.to_string(), stage)) {
            let _ = tx.send(socket);
        }
    }
}
