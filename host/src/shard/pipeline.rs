//! A stream of requests through the stages at once: while stage i runs request r, stage i − 1
//! already runs request r + 1, so K stages (K browsers, K cores) serve a stream up to K times
//! faster than one — what sharding buys besides fitting a model no single browser holds.

use super::{check_request, exchange_on, pooled, texts_frame, ShardRun, ShardedModel};
use crate::error::{HostError, Result};
use axum::extract::ws::{Message, WebSocket};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// A request travelling through the stages: its index, its frame for the next stage, when it
/// was submitted.
type InFlight = (usize, Message, Instant);
/// A request leaving the pipeline: the last stage's answer or the error that stopped it, and
/// how long after its submission it left.
type Finished = (usize, Result<Vec<u8>>, Duration);

impl ShardedModel {
    /// Embed every batch of `requests` with the stages working on different requests at the
    /// same time. A request that a failing stage could not serve is run again afterwards
    /// through [`ShardedModel::embed`], which relaunches the stage, so each request ends with
    /// its embeddings or an error. Results come in request order; each latency counts from
    /// submission (all requests are submitted at once).
    pub async fn embed_stream(&mut self, requests: &[Vec<String>]) -> Result<Vec<Result<ShardRun>>> {
        for texts in requests {
            check_request(texts)?;
        }
        let mut results: Vec<Option<Result<ShardRun>>> = (0..requests.len()).map(|_| None).collect();
        if self.stages.iter().all(|s| s.socket.is_some()) {
            for (req, answer, latency) in self.run_pipeline(requests).await {
                if let Ok(bytes) = answer {
                    let run = pooled(&bytes, requests[req].len()).map(|embeddings| ShardRun {
                        embeddings,
                        latency_ms: latency.as_secs_f64() * 1e3,
                        recoveries_ms: Vec::new(),
                    });
                    results[req] = Some(run);
                } else if let Err(e @ HostError::Page { .. }) = answer {
                    // The page refused the request itself: running it again would too.
                    results[req] = Some(Err(e));
                }
            }
        }
        // Whatever the pipeline did not finish goes through the stages one request at a time.
        for (req, slot) in results.iter_mut().enumerate() {
            if slot.is_none() {
                *slot = Some(self.embed(&requests[req]).await);
            }
        }
        Ok(results.into_iter().flatten().collect())
    }

    /// One task per stage, each owning its socket for the stream and passing answers on to the
    /// next; a stage that fails stops serving (its later requests come back as errors) and
    /// gives no socket back, so the next request relaunches it.
    async fn run_pipeline(&mut self, requests: &[Vec<String>]) -> Vec<Finished> {
        let count = self.stages.len();
        let (first_tx, mut inbox) = mpsc::unbounded_channel::<InFlight>();
        let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Finished>();
        let mut tasks = Vec::new();
        for i in 0..count {
            let Some(mut socket): Option<WebSocket> = self.stages[i].socket.take() else { continue };
            let (next_tx, next_rx) = mpsc::unbounded_channel::<InFlight>();
            let mut stage_inbox = std::mem::replace(&mut inbox, next_rx);
            let forward = (i + 1 < count).then_some(next_tx);
            let done = done_tx.clone();
            let (timeout, browser) = (self.stage_timeout, format!("{} (shard {i})", self.install.kind.name()));
            tasks.push((
                i,
                tokio::spawn(async move {
                    let mut healthy = true;
                    while let Some((req, frame, submitted)) = stage_inbox.recv().await {
                        if !healthy {
                            let _ = done.send((
                                req,
                                Err(HostError::Browser { browser: browser.clone(), message: "failed earlier in this stream".into() }),
                                submitted.elapsed(),
                            ));
                            continue;
                        }
                        match (exchange_on(&mut socket, frame, timeout, &browser).await, &forward) {
                            (Ok(bytes), Some(next)) => {
                                let _ = next.send((req, Message::Binary(bytes.into()), submitted));
                            }
                            (Ok(bytes), None) => {
                                let _ = done.send((req, Ok(bytes), submitted.elapsed()));
                            }
                            (Err(e), _) => {
                                healthy = matches!(e, HostError::Page { .. });
                                let _ = done.send((req, Err(e), submitted.elapsed()));
                            }
                        }
                    }
                    healthy.then_some(socket)
                }),
            ));
        }
        drop(done_tx);
        let submitted = Instant::now();
        for (req, texts) in requests.iter().enumerate() {
            let _ = first_tx.send((req, texts_frame(texts), submitted));
        }
        // Closing the first queue ends stage 0 when it has drained it, which closes stage 1's …
        drop(first_tx);
        let mut finished = Vec::with_capacity(requests.len());
        while let Some(f) = done_rx.recv().await {
            finished.push(f);
        }
        for (i, task) in tasks {
            self.stages[i].socket = task.await.ok().flatten();
        }
        finished
    }
}
