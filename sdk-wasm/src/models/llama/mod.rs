//! LLaMA-architecture decoder (SmolLM2, TinyLlama, Llama …) from a GGUF file: RMSNorm, RoPE,
//! grouped-query attention with a KV cache on the device, SwiGLU MLP. Linear weights stay in
//! their block format (Q4_1, Q8_0 …) and are multiplied by `ops::qmatmul`. Written only
//! against `ops`: the same code runs on the CPU (wasm SIMD in browsers) and on GPUs.

use crate::core::finite::ScanTime;
use crate::device::Device;
use crate::error::{Error, Result};
use crate::models::generation::{CausalLm, KvCache, Logits};
use crate::ops;
use crate::tensor::{DType, QuantMatrix, Tensor};
use crate::weights::Gguf;

mod config;
pub use config::LlamaConfig;

struct Layer {
    attn_norm: Tensor,
    q: QuantMatrix,
    k: QuantMatrix,
    v: QuantMatrix,
    o: QuantMatrix,
    ffn_norm: Tensor,
    gate: QuantMatrix,
    up: QuantMatrix,
    down: QuantMatrix,
}

pub struct Llama {
    pub config: LlamaConfig,
    device: Device,
    /// Token embeddings on the CPU (rows are looked up there); `output` multiplies on the device.
    embeddings: QuantMatrix,
    output: QuantMatrix,
    output_norm: Tensor,
    layers: Vec<Layer>,
    /// Milliseconds the load spent scanning weights for NaN and infinity.
    finite_scan_ms: f64,
}

fn matrix(g: &Gguf, name: &str, rows: usize, cols: usize, scan: &ScanTime) -> Result<QuantMatrix> {
    let (t, bytes) = g.tensor(name)?;
    if t.dims != [cols, rows] {
        return Err(Error::Model(format!("{name}: GGUF shape {:?}, the config needs [{cols}, {rows}]", t.dims)));
    }
    scan.check_blocks(name, t.dtype, bytes)?;
    QuantMatrix::from_bytes(t.dtype, rows, cols, bytes.to_vec())
}

fn vector(g: &Gguf, name: &str, len: usize, device: &Device, scan: &ScanTime) -> Result<Tensor> {
    let (t, bytes) = g.tensor(name)?;
    if t.dims != [len] || !matches!(t.dtype, DType::F32 | DType::F16 | DType::BF16) {
        return Err(Error::Model(format!("{name}: expected {len} float values, got {:?} {:?}", t.dims, t.dtype)));
    }
    let mut values = vec![0.0; len];
    crate::tensor::blocks::decode_row(t.dtype, bytes, &mut values);
    scan.check_values(name, &values)?;
    Tensor::from_vec_on(values, [len], device)
}

impl Llama {
    /// Read a LLaMA GGUF file onto `device`; every tensor's shape is checked against the config.
    pub fn from_gguf(g: &Gguf, device: &Device) -> Result<Llama> {
        let c = LlamaConfig::from_gguf(g)?;
        // Every tensor's shape against the config, on the table alone, before any is copied.
        c.check_weights(g)?;
        let kv_dim = c.kv_heads * c.head_dim();
        let on = |m: QuantMatrix| m.to_device(device);
        let scan = ScanTime::default();
        let embeddings = matrix(g, "token_embd.weight", c.vocab, c.dim, &scan)?;
        let output = match g.tensor("output.weight") {
            Ok(_) => on(matrix(g, "output.weight", c.vocab, c.dim, &scan)?)?,
            Err(_) => on(embeddings.clone())?, // tied embeddings
        };
        let mut layers = Vec::new();
        for l in 0..c.layers {
            let n = |s: &str| format!("blk.{l}.{s}.weight");
            layers.push(Layer {
                attn_norm: vector(g, &n("attn_norm"), c.dim, device, &scan)?,
                q: on(matrix(g, &n("attn_q"), c.dim, c.dim, &scan)?)?,
                k: on(matrix(g, &n("attn_k"), kv_dim, c.dim, &scan)?)?,
                v: on(matrix(g, &n("attn_v"), kv_dim, c.dim, &scan)?)?,
                o: on(matrix(g, &n("attn_output"), c.dim, c.dim, &scan)?)?,
                ffn_norm: vector(g, &n("ffn_norm"), c.dim, device, &scan)?,
                gate: on(matrix(g, &n("ffn_gate"), c.hidden, c.dim, &scan)?)?,
                up: on(matrix(g, &n("ffn_up"), c.hidden, c.dim, &scan)?)?,
                down: on(matrix(g, &n("ffn_down"), c.dim, c.hidden, &scan)?)?,
            });
        }
        let output_norm = vector(g, "output_norm.weight", c.dim, device, &scan)?;
        Ok(Llama { config: c, device: device.clone(), embeddings, output, output_norm, layers, finite_scan_ms: scan.ms() })
    }
}

impl CausalLm for Llama {
    fn vocab(&self) -> usize {
        self.config.vocab
    }

    fn context(&self) -> usize {
        self.config.context
    }

    fn device(&self) -> &Device {
        &self.device
    }

    fn finite_scan_ms(&self) -> f64 {
        self.finite_scan_ms
    }

    fn weight_bytes(&self) -> u64 {
        let mats = self.layers.iter().flat_map(|l| [&l.q, &l.k, &l.v, &l.o, &l.gate, &l.up, &l.down]);
        let output = if self.output.shares_storage(&self.embeddings) { 0 } else { self.output.bytes() };
        mats.map(|m| m.bytes()).sum::<u64>() + self.embeddings.bytes() + output
    }

    fn cache_in(&self, capacity: usize, dtype: DType) -> Result<KvCache> {
        self.new_cache(capacity, dtype, dtype != DType::F32)
    }

    fn forward<'a>(&'a self, ids: &'a [u32], cache: &'a mut KvCache) -> Logits<'a> {
        Box::pin(self.run(ids, cache, false))
    }

    fn forward_all<'a>(&'a self, ids: &'a [u32], cache: &'a mut KvCache) -> Logits<'a> {
        Box::pin(self.run(ids, cache, true))
    }

    fn requantized(&self, dtype: DType) -> Result<Box<dyn CausalLm>> {
        let re = |m: &QuantMatrix| QuantMatrix::quantize(&m.dequantize()?, m.rows, m.cols, dtype)?.to_device(&self.device);
        let layers = self
            .layers
            .iter()
            .map(|l| {
                Ok(Layer {
                    attn_norm: l.attn_norm.clone(),
                    q: re(&l.q)?,
                    k: re(&l.k)?,
                    v: re(&l.v)?,
                    o: re(&l.o)?,
                    ffn_norm: l.ffn_norm.clone(),
                    gate: re(&l.gate)?,
                    up: re(&l.up)?,
                    down: re(&l.down)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Box::new(Llama {
            layers,
            config: self.config.clone(),
            device: self.device.clone(),
            embeddings: self.embeddings.clone(),
            output: self.output.clone(),
            output_norm: self.output_norm.clone(),
            // The copy's weights were scanned when this model loaded.
            finite_scan_ms: self.finite_scan_ms,
        }))
    }
}

impl Llama {
    /// A CPU block cache even for F32: the quantized caches' attention without the rounding.
    pub fn cache_blocks(&self, capacity: usize, dtype: DType) -> Result<KvCache> {
        self.new_cache(capacity, dtype, true)
    }

    fn new_cache(&self, capacity: usize, dtype: DType, blocks: bool) -> Result<KvCache> {
        let c = &self.config;
        KvCache::new(c.layers, c.kv_heads, capacity.clamp(1, c.context), c.head_dim(), (dtype, blocks), &self.device)
    }

    fn rope_tables(&self, start: usize, seq: usize) -> Result<(Tensor, Tensor)> {
        let half = self.config.head_dim() / 2;
        let (mut cos, mut sin) = (Vec::with_capacity(seq * half), Vec::with_capacity(seq * half));
        for p in start..start + seq {
            for i in 0..half {
                let angle = p as f64 * self.config.rope_base.powf(-2.0 * i as f64 / self.config.head_dim() as f64);
                cos.push(angle.cos() as f32);
                sin.push(angle.sin() as f32);
            }
        }
        Ok((Tensor::from_vec_on(cos, [seq, half], &self.device)?, Tensor::from_vec_on(sin, [seq, half], &self.device)?))
    }

    async fn run(&self, ids: &[u32], cache: &mut KvCache, every_position: bool) -> Result<Vec<f32>> {
        let c = &self.config;
        let seq = ids.len();
        if seq == 0 {
            return Err(Error::Model("forward needs at least one token".into()));
        }
        let start = cache.len;
        if start + seq > cache.capacity {
            return Err(Error::Model(format!(
                "context full: {start} cached + {seq} new tokens exceed the KV cache's {} positions",
                cache.capacity
            )));
        }
        let (hd, group, act) = (c.head_dim(), c.heads / c.kv_heads, cache.activations);
        let mut rows = Vec::with_capacity(seq * c.dim);
        for &id in ids {
            if id as usize >= c.vocab {
                return Err(Error::Model(format!("token id {id} is outside the vocabulary ({})", c.vocab)));
            }
            rows.extend(self.embeddings.row(id as usize)?);
        }
        let mut x = Tensor::from_vec_on(rows, [seq, c.dim], &self.device)?;
        let (cos, sin) = self.rope_tables(start, seq)?;
        let mask = cache.causal_mask(group, seq, &self.device)?;
        for (l, layer) in self.layers.iter().enumerate() {
            let h = ops::rmsnorm(&x, &layer.attn_norm, c.eps).await?;
            let q = ops::qmatmul_with(&h, &layer.q, act).await?.reshape([seq, c.heads, hd])?;
            let k = ops::qmatmul_with(&h, &layer.k, act).await?.reshape([seq, c.kv_heads, hd])?;
            let v = ops::qmatmul_with(&h, &layer.v, act).await?.reshape([seq, c.kv_heads, hd])?;
            let q = ops::rope(&q, &cos, &sin).await?;
            let k = ops::rope(&k, &cos, &sin).await?;
            let attn = cache.attend(l, &q, &k, &v, mask.as_ref()).await?;
            x = ops::add(&x, &ops::qmatmul_with(&attn, &layer.o, act).await?).await?;
            let h = ops::rmsnorm(&x, &layer.ffn_norm, c.eps).await?;
            let gated =
                ops::silu_mul(&ops::qmatmul_with(&h, &layer.gate, act).await?, &ops::qmatmul_with(&h, &layer.up, act).await?).await?;
            x = ops::add(&x, &ops::qmatmul_with(&gated, &layer.down, act).await?).await?;
        }
        cache.advance(seq);
        if every_position {
            let h = ops::rmsnorm(&x, &self.output_norm, c.eps).await?;
            return ops::qmatmul_with(&h, &self.output, act).await?.to_vec().await;
        }
        let last = x.reshape([seq * c.dim])?.strided_view([1, c.dim], vec![c.dim, 1], (seq - 1) * c.dim)?;
        let last = ops::contiguous(&last).await?;
        let h = ops::rmsnorm(&last, &self.output_norm, c.eps).await?;
        ops::qmatmul_with(&h, &self.output, act).await?.to_vec().await
    }
}
