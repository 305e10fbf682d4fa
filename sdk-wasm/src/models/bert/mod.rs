//! BERT encoder with mean pooling and L2 normalisation (sentence-transformers style, e.g.
//! all-MiniLM-L6-v2), loaded from HF `config.json` + `model.safetensors`.

use crate::core::error::{Error, Result};
use crate::core::finite::{first_non_finite, ScanTime};
use crate::device::Device;
use crate::models::layers::{merge_heads, split_heads, LayerNorm, Linear};
use crate::ops;
use crate::share::{ModelTensors, TensorIds, TensorKey, TensorRegistry, Transform};
use crate::tensor::Tensor;
use crate::text::Encoding;
use crate::weights::WeightSource;
use std::ops::Range;
use std::sync::Arc;

mod config;
mod part;
mod stages;
pub use config::BertConfig;
pub use part::PartSlices;
pub use stages::Activations;

struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    attention_out: Linear,
    attention_norm: LayerNorm,
    intermediate: Linear,
    output: Linear,
    output_norm: LayerNorm,
}

/// Token, position and token-type tables and their norm: the first stage's weights.
struct Embeddings {
    word: Tensor,
    position: Tensor,
    token_type: Tensor,
    norm: LayerNorm,
}

pub struct Bert {
    config: BertConfig,
    device: Device,
    /// Held when the model starts at layer 0 (a whole model, or a first shard stage).
    embeddings: Option<Embeddings>,
    /// Layers `first_layer..first_layer + layers.len()` of the config's; all of them unless
    /// this is a shard stage loaded with only its part of the weights.
    first_layer: usize,
    layers: Vec<Layer>,
    /// This model's claims on the shared weights; dropping the model releases them.
    tensors: ModelTensors,
    /// Milliseconds the load spent scanning weights for NaN and infinity.
    finite_scan_ms: f64,
}

/// How hidden states become one sentence vector.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Pooling {
    /// Masked mean over tokens (sentence-transformers).
    #[default]
    Mean,
    /// The first ([CLS]) token's hidden state.
    Cls,
}

impl Pooling {
    pub fn from_name(name: &str) -> Result<Pooling> {
        match name {
            "mean" => Ok(Pooling::Mean),
            "cls" => Ok(Pooling::Cls),
            other => Err(Error::Model(format!("unknown pooling {other:?}; expected \"mean\" or \"cls\""))),
        }
    }
}

/// How linear layers hold their weights.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LinearWeights {
    /// As the file stores them: f32, or on the CPU the file's own int8 values (on other
    /// devices those are dequantized to f32).
    #[default]
    AsStored,
    /// f32 everywhere (an int8 file's weights dequantized).
    F32,
    /// int8 with one scale per output feature, f32 weights quantized at load (CPU only).
    Int8,
}

impl LinearWeights {
    /// `"int8"`, `"f32"`, or `"auto"` for weights as stored.
    pub fn from_name(name: &str) -> Result<LinearWeights> {
        match name {
            "auto" => Ok(LinearWeights::AsStored),
            "f32" => Ok(LinearWeights::F32),
            "int8" => Ok(LinearWeights::Int8),
            other => Err(Error::Model(format!("unknown quantize {other:?}; expected \"int8\", \"f32\" or \"auto\""))),
        }
    }
}

/// Reads named tensors from the weight file, checks their shapes, and claims them, prepared
/// for the device, from the shared registry (built only if no model holds them yet).
struct Loader<'a> {
    st: &'a dyn WeightSource,
    device: &'a Device,
    tensors: &'a ModelTensors,
    linear: LinearWeights,
    scan: ScanTime,
}

impl Loader<'_> {
    async fn prepared(&self, name: &str, shape: Option<&[usize]>, transform: Transform) -> Result<Tensor> {
        let t = self.st.tensor(name).map_err(|e| Error::Model(format!("loading {name}: {e}")))?;
        if let Some(shape) = shape.filter(|s| t.dims() != *s) {
            return Err(Error::Model(format!("{name} has shape {}, config expects {shape:?}", t.shape())));
        }
        let values = t.cpu_contiguous()?;
        self.scan.check_values(name, &values)?;
        let key = TensorKey::with_content(self.tensors.content_id(name, &values), t.dims(), transform, self.device);
        let (device, st_int8) = (self.device, self.st.int8(name));
        self.tensors
            .get_or_build(key, || async move {
                match transform {
                    Transform::AsIs => t.to_device(device).await,
                    Transform::Transposed => {
                        let weight_t = ops::contiguous(&t.to_device(device).await?.transpose(0, 1)?).await?;
                        // On the CPU a linear weight is only ever a matmul's right-hand side.
                        match device {
                            Device::Cpu => weight_t.into_packed_weight(),
                            _ => Ok(weight_t),
                        }
                    }
                    Transform::Int8Transposed => match st_int8.filter(|w| w.rows == t.dims()[0]) {
                        Some(w) => Tensor::int8_weight(&w.values, &w.scales, w.rows, w.cols),
                        None => ops::contiguous(&t.transpose(0, 1)?).await?.into_int8_weight(),
                    },
                    Transform::FirstRow => {
                        let width = t.dims().get(1).copied().unwrap_or(0);
                        ops::gather_rows(&t, &[0]).await?.reshape([width])?.to_device(device).await
                    }
                }
            })
            .await
    }

    async fn tensor(&self, name: &str, shape: &[usize]) -> Result<Tensor> {
        self.prepared(name, Some(shape), Transform::AsIs).await
    }

    async fn linear(&self, prefix: &str, inputs: usize, outputs: usize) -> Result<Linear> {
        let name = format!("{prefix}.weight");
        // int8 kernels exist on the CPU only; elsewhere an int8 file's weights run dequantized.
        let int8 = matches!(self.device, Device::Cpu)
            && match self.linear {
                LinearWeights::AsStored => self.st.int8(&name).is_some(),
                LinearWeights::F32 => false,
                LinearWeights::Int8 => true,
            };
        let transform = if int8 { Transform::Int8Transposed } else { Transform::Transposed };
        Ok(Linear {
            weight_t: self.prepared(&name, Some(&[outputs, inputs]), transform).await?,
            bias: self.tensor(&format!("{prefix}.bias"), &[outputs]).await?,
        })
    }

    async fn norm(&self, prefix: &str, width: usize) -> Result<LayerNorm> {
        Ok(LayerNorm {
            gamma: self.tensor(&format!("{prefix}.weight"), &[width]).await?,
            beta: self.tensor(&format!("{prefix}.bias"), &[width]).await?,
        })
    }

    async fn embeddings(&self, config: &BertConfig) -> Result<Embeddings> {
        let h = config.hidden_size;
        let word = self.tensor("embeddings.word_embeddings.weight", &[config.vocab_size, h]).await?;
        let position = self.tensor("embeddings.position_embeddings.weight", &[config.max_position_embeddings, h]).await?;
        // Single-segment input: only row 0 (token type 0) is ever used.
        let token_type = self.prepared("embeddings.token_type_embeddings.weight", None, Transform::FirstRow).await?;
        if token_type.dims() != [h] {
            return Err(Error::Model(format!("token type embeddings have width {}, config expects {h}", token_type.shape())));
        }
        Ok(Embeddings { word, position, token_type, norm: self.norm("embeddings.LayerNorm", h).await? })
    }
}

impl Bert {
    /// Load with weights of its own (no sharing with other models).
    pub async fn load(config: BertConfig, st: &dyn WeightSource, device: &Device) -> Result<Bert> {
        let all = 0..config.num_hidden_layers;
        Bert::load_part(config, st, device, &TensorRegistry::new(), TensorIds::default(), LinearWeights::AsStored, all).await
    }

    /// Load the weights of `layers` (all of them for a whole model; the embeddings with a range
    /// that starts at 0; a shard stage's part otherwise), taking each from `registry` when
    /// another model already holds it. `ids` holds the weight file's known tensor content ids
    /// (those missing are computed and added). The file's whole table is checked either way.
    pub async fn load_part(
        config: BertConfig,
        st: &dyn WeightSource,
        device: &Device,
        registry: &Arc<TensorRegistry>,
        ids: TensorIds,
        linear: LinearWeights,
        layers: Range<usize>,
    ) -> Result<Bert> {
        if linear == LinearWeights::Int8 && !matches!(device, Device::Cpu) {
            return Err(Error::Model(format!("quantize \"int8\" runs on the CPU only, not on {}", device.name())));
        }
        config.check_part(&layers)?;
        // Every weight's name and shape is checked against the file's table before any is read.
        config.check_weights(st)?;
        let tensors = ModelTensors::new(Arc::clone(registry), ids);
        let l = Loader { st, device, tensors: &tensors, linear, scan: ScanTime::default() };
        let (h, ff) = (config.hidden_size, config.intermediate_size);
        let embeddings = if layers.start == 0 { Some(l.embeddings(&config).await?) } else { None };
        let mut held = Vec::new();
        for i in layers.clone() {
            let p = format!("encoder.layer.{i}");
            held.push(Layer {
                query: l.linear(&format!("{p}.attention.self.query"), h, h).await?,
                key: l.linear(&format!("{p}.attention.self.key"), h, h).await?,
                value: l.linear(&format!("{p}.attention.self.value"), h, h).await?,
                attention_out: l.linear(&format!("{p}.attention.output.dense"), h, h).await?,
                attention_norm: l.norm(&format!("{p}.attention.output.LayerNorm"), h).await?,
                intermediate: l.linear(&format!("{p}.intermediate.dense"), h, ff).await?,
                output: l.linear(&format!("{p}.output.dense"), ff, h).await?,
                output_norm: l.norm(&format!("{p}.output.LayerNorm"), h).await?,
            });
        }
        let finite_scan_ms = l.scan.ms();
        Ok(Bert { config, device: device.clone(), embeddings, first_layer: layers.start, layers: held, tensors, finite_scan_ms })
    }

    /// Milliseconds the load spent scanning weights for NaN and infinity.
    pub fn finite_scan_ms(&self) -> f64 {
        self.finite_scan_ms
    }

    pub fn config(&self) -> &BertConfig {
        &self.config
    }

    /// (bytes, of which shared with other models) of the weights this model holds.
    pub fn weight_bytes(&self) -> (u64, u64) {
        self.tensors.bytes()
    }

    /// Sentence embedding of one tokenised sequence: mean of the last hidden states over
    /// positions where `mask` is 1, L2-normalised.
    pub async fn embed(&self, ids: &[u32], mask: &[u32]) -> Result<Vec<f32>> {
        let batch = [Encoding { ids: ids.to_vec(), mask: mask.to_vec() }];
        Ok(self.embed_batch(&batch).await?.remove(0))
    }

    /// Sentence embeddings of many sequences, in input order. Sequences are sorted by length
    /// and run `MAX_BATCH` at a time, each group padded to its longest member, so padding
    /// costs little; padded positions are masked out of attention and pooling.
    pub async fn embed_batch(&self, sequences: &[Encoding]) -> Result<Vec<Vec<f32>>> {
        self.embed_batch_pooled(sequences, Pooling::Mean).await
    }

    /// As [`Bert::embed_batch`], pooling as asked.
    pub async fn embed_batch_pooled(&self, sequences: &[Encoding], pooling: Pooling) -> Result<Vec<Vec<f32>>> {
        for (i, e) in sequences.iter().enumerate() {
            let seq = e.ids.len();
            if seq == 0 || seq > self.config.max_position_embeddings {
                return Err(Error::Model(format!("sequence {i}: length {seq} must be 1..={}", self.config.max_position_embeddings)));
            }
            if e.mask.len() != seq {
                return Err(Error::Model(format!("sequence {i}: attention mask has {} entries for {seq} tokens", e.mask.len())));
            }
        }
        let mut order: Vec<usize> = (0..sequences.len()).collect();
        order.sort_by_key(|&i| sequences[i].ids.len());
        let mut out = vec![Vec::new(); sequences.len()];
        for group in order.chunks(MAX_BATCH) {
            let padded = Padded::new(group.iter().map(|&i| &sequences[i]));
            let hidden = self.encode_padded(&padded).await?.to_vec().await?;
            let width = self.config.hidden_size;
            for (row, &i) in group.iter().enumerate() {
                let rows = &hidden[row * padded.seq * width..(row + 1) * padded.seq * width];
                out[i] = match pooling {
                    Pooling::Mean => mean_pool_normalize(rows, &padded.mask[row * padded.seq..(row + 1) * padded.seq], width),
                    Pooling::Cls => mean_pool_normalize(&rows[..width], &[1], width),
                };
                if first_non_finite(&out[i]).is_some() {
                    return Err(Error::Model(format!("sequence {i}: the model produced NaN or infinity (overflowing activations)")));
                }
            }
        }
        Ok(out)
    }

    /// Last hidden states [seq, hidden] of one sequence.
    pub async fn encode(&self, ids: &[u32], mask: &[u32]) -> Result<Tensor> {
        let padded = Padded::new([&Encoding { ids: ids.to_vec(), mask: mask.to_vec() }]);
        self.encode_padded(&padded).await
    }

    /// Last hidden states [batch·seq, hidden] of a padded batch.
    async fn encode_padded(&self, p: &Padded) -> Result<Tensor> {
        if self.first_layer != 0 || self.layers.len() != self.config.num_hidden_layers {
            let end = self.first_layer + self.layers.len();
            return Err(Error::Model(format!(
                "this model holds layers {}..{end} of {} only (a shard stage's part): run it in stages",
                self.first_layer, self.config.num_hidden_layers
            )));
        }
        let mut x = self.embeddings(p).await?;
        let bias = self.mask_bias(&p.mask, p.batch, p.seq).await?;
        for layer in &self.layers {
            x = self.layer(layer, &x, &bias, p.batch, p.seq, self.config.hidden_size).await?;
        }
        Ok(x)
    }

    /// Token + position + token-type embeddings, layer-normalised: [batch·seq, hidden].
    async fn embeddings(&self, p: &Padded) -> Result<Tensor> {
        let e = self.embeddings.as_ref().ok_or_else(|| {
            Error::Model(format!("this model starts at layer {} (a shard stage's part): it holds no embeddings", self.first_layer))
        })?;
        let positions: Vec<u32> = (0..p.batch).flat_map(|_| 0..p.seq as u32).collect();
        let x = ops::add(&ops::gather_rows(&e.word, &p.ids).await?, &ops::gather_rows(&e.position, &positions).await?).await?;
        let x = ops::add(&x, &e.token_type).await?;
        e.norm.forward(&x, self.config.layer_norm_eps).await
    }

    /// Additive attention mask per sequence: padded keys get -1e9 before softmax (zero weight).
    async fn mask_bias(&self, mask: &[u32], batch: usize, seq: usize) -> Result<Tensor> {
        let bias: Vec<f32> = mask.iter().map(|&m| if m > 0 { 0.0 } else { -1e9 }).collect();
        Tensor::from_vec(bias, [batch, 1, 1, seq])?.to_device(&self.device).await
    }

    async fn layer(&self, layer: &Layer, x: &Tensor, mask_bias: &Tensor, batch: usize, seq: usize, h: usize) -> Result<Tensor> {
        let heads = self.config.num_attention_heads;
        let d = h / heads;
        let q = split_heads(&layer.query.forward(x).await?, batch, seq, heads).await?;
        let k = split_heads(&layer.key.forward(x).await?, batch, seq, heads).await?;
        let v = split_heads(&layer.value.forward(x).await?, batch, seq, heads).await?;
        // The mask [batch, 1, 1, seq] groups the batch·heads problems by sequence.
        let context = ops::attention(&q, &k, &v, Some(mask_bias), 1.0 / (d as f32).sqrt()).await?; // [batch·heads, seq, d]
        let context = merge_heads(&context, batch, seq, heads).await?;
        let attended = layer.attention_out.forward_residual(&context, x).await?;
        let eps = self.config.layer_norm_eps;
        let x = layer.attention_norm.forward(&attended, eps).await?;
        let ff = ops::gelu(&layer.intermediate.forward(&x).await?).await?;
        let out = layer.output.forward_residual(&ff, &x).await?;
        layer.output_norm.forward(&out, eps).await
    }
}

/// Sequences run together per forward pass: enough to fill the matmuls, small enough that
/// one long outlier does not pad many short ones.
const MAX_BATCH: usize = 16;

/// A batch padded to its longest sequence (pad id 0, mask 0), flattened row-major.
struct Padded {
    batch: usize,
    seq: usize,
    ids: Vec<u32>,
    mask: Vec<u32>,
}

impl Padded {
    fn new<'a>(sequences: impl IntoIterator<Item = &'a Encoding>) -> Padded {
        let sequences: Vec<&Encoding> = sequences.into_iter().collect();
        let seq = sequences.iter().map(|e| e.ids.len()).max().unwrap_or(0);
        let mut p = Padded { batch: sequences.len(), seq, ids: Vec::new(), mask: Vec::new() };
        for e in sequences {
            p.ids.extend(e.ids.iter().copied().chain(std::iter::repeat_n(0, seq - e.ids.len())));
            p.mask.extend(e.mask.iter().copied().chain(std::iter::repeat_n(0, seq - e.ids.len())));
        }
        p
    }
}

/// Masked mean over positions, then L2 normalisation (accumulated in f64). Shared with the
/// host's comparison backends so every backend pools the same way.
pub fn mean_pool_normalize(hidden: &[f32], mask: &[u32], width: usize) -> Vec<f32> {
    let mut sum = vec![0.0f64; width];
    let mut count = 0.0;
    for (row, &m) in hidden.chunks_exact(width).zip(mask) {
        if m > 0 {
            count += 1.0;
            sum.iter_mut().zip(row).for_each(|(s, &v)| *s += v as f64);
        }
    }
    let mean: Vec<f64> = sum.iter().map(|s| s / f64::max(count, 1.0)).collect();
    let norm = mean.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-12);
    mean.iter().map(|v| (v / norm) as f32).collect()
}
