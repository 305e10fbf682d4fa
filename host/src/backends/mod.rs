//! Native embedding backends for `accelerate run` and `accelerate bench --suite minilm`: ours
//! (the SDK on CPU or wgpu) and the comparison runtimes (ONNX Runtime, candle). Every backend
//! takes the same token ids from our tokenizer and pools the same way, so differences in time
//! and output are the models' own.

mod candle;
mod candle_llama;
pub mod image_model;
pub mod models;
mod onnx_export;
mod ort;
pub mod ort_vad;
mod ort_vision;
pub mod ort_whisper;
pub mod speech;
pub mod text_generation;

pub use candle::adapter as candle_adapter;
pub use models::{ModelSpec, MODELS};

use crate::error::{HostError, Result};
use ipfs_accelerate::models::bert::LinearWeights;
use ipfs_accelerate::models::embedder::{EmbedderOptions, SentenceEmbedder};
use ipfs_accelerate::text::Encoding;
use ipfs_accelerate::{AdapterSummary, Device};

/// The native backends, by the name `--backend` takes.
/// `ours-cpu-int8`: ours on the CPU with every linear layer int8 (f32 weights quantized at load).
pub const NATIVE_BACKENDS: [&str; 5] = ["ours-cpu", "ours-cpu-int8", "ours-wgpu", "ort-cpu", "candle-cpu"];

pub enum NativeEmbedder {
    Ours(Box<SentenceEmbedder>, AdapterSummary),
    Ort(ort::OrtEmbedder),
    Candle(candle::CandleEmbedder),
}

impl NativeEmbedder {
    /// Load `model` on `backend`; a backend that cannot run that model's weight format says so.
    pub async fn load(backend: &str, model: &ModelSpec) -> Result<NativeEmbedder> {
        let dir = model.dir();
        let weights = match backend {
            "ours-cpu" | "ours-cpu-int8" | "ours-wgpu" => model.ours_weights,
            "ort-cpu" => model.onnx_weights,
            "candle-cpu" => model.safetensors_weights,
            other => return Err(HostError::Invalid(format!("unknown backend {other:?}; known: {}", NATIVE_BACKENDS.join(", ")))),
        }
        .ok_or_else(|| HostError::Invalid(format!("backend {backend} cannot run model {} ({})", model.name, model.description)))?;
        match backend {
            "ours-cpu" | "ours-cpu-int8" | "ours-wgpu" => {
                let device = if backend == "ours-wgpu" { Device::gpu().await? } else { Device::Cpu };
                let linear = if backend == "ours-cpu-int8" { LinearWeights::Int8 } else { LinearWeights::AsStored };
                let options = EmbedderOptions { max_tokens: Some(model.max_tokens), linear, ..EmbedderOptions::default() };
                let embedder = SentenceEmbedder::from_dir(&dir, weights, &device, &options).await?;
                Ok(NativeEmbedder::Ours(Box::new(embedder), device.summary()))
            }
            "ort-cpu" => Ok(NativeEmbedder::Ort(ort::OrtEmbedder::load(&dir.join(weights))?)),
            _ => Ok(NativeEmbedder::Candle(candle::CandleEmbedder::load(&dir, weights)?)),
        }
    }

    /// What ran the model: adapter facts for ours, the runtime for the others.
    pub fn adapter(&self) -> AdapterSummary {
        match self {
            NativeEmbedder::Ours(_, summary) => summary.clone(),
            NativeEmbedder::Ort(o) => o.adapter(),
            NativeEmbedder::Candle(_) => candle::adapter(),
        }
    }

    pub async fn embed(&mut self, batch: &[Encoding]) -> Result<Vec<Vec<f32>>> {
        match self {
            NativeEmbedder::Ours(e, _) => Ok(e.embed_encodings(batch).await?),
            NativeEmbedder::Ort(o) => o.embed(batch),
            NativeEmbedder::Candle(c) => c.embed(batch),
        }
    }
}

/// Sequences padded to the batch's longest (pad id 0, mask 0), row-major, as i64 for the
/// runtimes that take ONNX-style inputs.
pub(crate) struct PaddedBatch {
    pub batch: usize,
    pub seq: usize,
    pub ids: Vec<i64>,
    pub mask: Vec<i64>,
}

impl PaddedBatch {
    pub fn new(batch: &[Encoding]) -> Result<PaddedBatch> {
        let seq = batch.iter().map(|e| e.ids.len()).max().unwrap_or(0);
        if seq == 0 {
            return Err(HostError::Invalid("an empty batch (or only empty sequences) cannot be embedded".into()));
        }
        let mut p = PaddedBatch { batch: batch.len(), seq, ids: Vec::new(), mask: Vec::new() };
        for e in batch {
            let pad = seq - e.ids.len();
            p.ids.extend(e.ids.iter().map(|&i| i as i64).chain(std::iter::repeat_n(0, pad)));
            p.mask.extend(e.mask.iter().map(|&m| m as i64).chain(std::iter::repeat_n(0, pad)));
        }
        Ok(p)
    }

    /// Mean-pool and L2-normalise token embeddings [batch, seq, width] with this batch's mask.
    pub fn pool(&self, hidden: &[f32], width: usize) -> Vec<Vec<f32>> {
        (0..self.batch)
            .map(|b| {
                let rows = &hidden[b * self.seq * width..(b + 1) * self.seq * width];
                let mask: Vec<u32> = self.mask[b * self.seq..(b + 1) * self.seq].iter().map(|&m| m as u32).collect();
                ipfs_accelerate::models::bert::mean_pool_normalize(rows, &mask, width)
            })
            .collect()
    }
}
