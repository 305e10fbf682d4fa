//! The KV cache: per layer, keys and values of every position so far, bounded by a capacity,
//! and the attention that reads it. Its layout is attention's (layers × KV heads × head width),
//! not one model family's: any decoder with multi-head or grouped-query attention uses it.
//! Dense (f32 tensors on the model's device, written in place by `ops::kv_write`) or, on the
//! CPU, in a block format (Q8_0, Q4_1 or our Q2): each head's row of a position is encoded as
//! it is written and decoded only while attention reads it, so the cache stays 8/4/2-bit.
//! (A Hadamard rotation of rows before encoding, as in QuaRot, was tried and measured worse
//! here: it spreads the sink tokens' huge values over every block of the row.)

use crate::backend::Activations;
use crate::device::Device;
use crate::error::{Error, Result};
use crate::ops;
use crate::tensor::{blocks, DType, Tensor};

/// Leading positions kept in f32 beside a block cache: models park large "attention sink"
/// activations on the first tokens, and rounding those costs far more than their size.
const SINK: usize = 4;

/// What a causal mask adds at a future position: finite (as `ops::attention` asks), and its
/// exponential underflows to exactly 0.
const MASKED: f32 = -1e9;

enum KvStore {
    Dense {
        keys: Vec<Tensor>,
        values: Vec<Tensor>,
    },
    /// Per layer: [kv_heads][capacity] rows of `row_bytes`.
    /// The first `SINK` positions also in f32, [kv_heads][SINK][hd] per layer.
    Blocks {
        dtype: DType,
        row_bytes: usize,
        keys: Vec<Vec<u8>>,
        values: Vec<Vec<u8>>,
        sink_keys: Vec<Vec<f32>>,
        sink_values: Vec<Vec<f32>>,
    },
}

pub struct KvCache {
    store: KvStore,
    pub capacity: usize,
    pub len: usize,
    /// How this sequence's block-quantized linear layers take their inputs: a per-generation
    /// choice of precision, made with the cache as its own precision is.
    pub activations: Activations,
    kv_heads: usize,
    head_dim: usize,
}

impl KvCache {
    /// With `blocks` false, the dense f32 cache on `device`; else a CPU block cache in `dtype`
    /// (Q8_0, Q4_1, Q2, or F32 rows — the same code path without the rounding).
    pub fn new(
        layers: usize,
        kv_heads: usize,
        capacity: usize,
        head_dim: usize,
        (dtype, blocks): (DType, bool),
        device: &Device,
    ) -> Result<KvCache> {
        let store = if !blocks {
            let shape = [kv_heads, capacity, head_dim];
            let mut keys = Vec::with_capacity(layers);
            let mut values = Vec::with_capacity(layers);
            for _ in 0..layers {
                keys.push(Tensor::zeros(shape, device)?);
                values.push(Tensor::zeros(shape, device)?);
            }
            KvStore::Dense { keys, values }
        } else {
            if !matches!(dtype, DType::Q8_0 | DType::Q4_1 | DType::Q2 | DType::F32) {
                return Err(Error::Model(format!("KV cache precision {dtype:?} is not offered (F32, Q8_0, Q4_1, Q2)")));
            }
            if !matches!(device, Device::Cpu) {
                return Err(Error::Model(format!("a {dtype:?} KV cache runs on the CPU path only; use F32 on a GPU")));
            }
            let row_bytes = dtype
                .storage_bytes(head_dim)
                .ok_or_else(|| Error::Model(format!("head width {head_dim} does not fill {dtype:?} blocks of 32")))?;
            let size = kv_heads * capacity * row_bytes;
            let sink = vec![vec![0.0; kv_heads * SINK * head_dim]; layers];
            KvStore::Blocks {
                dtype,
                row_bytes,
                keys: vec![vec![0; size]; layers],
                values: vec![vec![0; size]; layers],
                sink_keys: sink.clone(),
                sink_values: sink,
            }
        };
        Ok(KvCache { store, capacity, len: 0, kv_heads, head_dim, activations: Activations::F32 })
    }

    /// Bytes the cache holds at its full capacity.
    pub fn bytes(&self) -> u64 {
        match &self.store {
            KvStore::Dense { keys, values } => keys.iter().chain(values).map(|t| t.elements() as u64 * 4).sum(),
            KvStore::Blocks { keys, values, sink_keys, sink_values, .. } => {
                let sink: usize = sink_keys.iter().chain(sink_values).map(|b| b.len() * 4).sum();
                keys.iter().chain(values).map(|b| b.len() as u64).sum::<u64>() + sink as u64
            }
        }
    }

    pub fn dtype(&self) -> DType {
        match &self.store {
            KvStore::Dense { .. } => DType::F32,
            KvStore::Blocks { dtype, .. } => *dtype,
        }
    }

    /// The causal mask a dense cache's attention adds, over [group·seq, len + seq] for `seq`
    /// new positions: row (g, s) sees positions ≤ len + s. Block caches apply causality
    /// themselves and need none. Built once per forward pass, shared by every layer.
    pub fn causal_mask(&self, group: usize, seq: usize, device: &Device) -> Result<Option<Tensor>> {
        let (start, total) = (self.len, self.len + seq);
        match self.store {
            KvStore::Dense { .. } => {
                let mut mask = Vec::with_capacity(group * seq * total);
                for _ in 0..group {
                    for s in 0..seq {
                        mask.extend((0..total).map(|j| if j <= start + s { 0.0 } else { MASKED }));
                    }
                }
                Ok(Some(Tensor::from_vec_on(mask, [group * seq, total], device)?))
            }
            KvStore::Blocks { .. } => Ok(None),
        }
    }

    /// Attention for layer `l` of `seq` new positions after the `len` cached: `q` is
    /// [seq, heads, hd] and `k`, `v` [seq, kv_heads, hd] (roped); `k` and `v` are written at
    /// `len`, then each query row attends causally. `mask` is `causal_mask`'s. Returns
    /// [seq, heads·hd]. The cache's `len` moves only with `advance`, after the last layer.
    pub async fn attend(&mut self, l: usize, q: &Tensor, k: &Tensor, v: &Tensor, mask: Option<&Tensor>) -> Result<Tensor> {
        let (seq, heads) = match q.dims() {
            &[seq, heads, _] => (seq, heads),
            dims => return Err(Error::Model(format!("attention queries must be [seq, heads, hd], got {dims:?}"))),
        };
        let (kv_heads, hd, cap, start) = (self.kv_heads, self.head_dim, self.capacity, self.len);
        let (total, group) = (start + seq, heads / kv_heads);
        match &mut self.store {
            KvStore::Dense { keys, values } => {
                let mask = mask.ok_or_else(|| Error::Model("dense KV cache without a mask".into()))?;
                ops::kv_write(&mut keys[l], k, start).await?;
                ops::kv_write(&mut values[l], v, start).await?;
                // The filled window of the cache, read in place.
                let window = |t: &Tensor| t.strided_view([kv_heads, total, hd], vec![cap * hd, hd, 1], 0);
                let (keys, values) = (window(&keys[l])?, window(&values[l])?);
                // Heads h = kv·group + g share key/value head kv: fold the group into the rows.
                let q = ops::contiguous(&q.permute(&[1, 0, 2])?).await?.reshape([kv_heads, group * seq, hd])?;
                let scale = 1.0 / (hd as f32).sqrt();
                let attn = ops::attention(&q, &keys, &values, Some(mask), scale).await?.reshape([heads, seq, hd])?;
                ops::contiguous(&attn.permute(&[1, 0, 2])?).await?.reshape([seq, heads * hd])
            }
            KvStore::Blocks { .. } => {
                let (q, k, v) = (q.cpu_contiguous()?, k.cpu_contiguous()?, v.cpu_contiguous()?);
                let out = self.attend_blocks(l, &q, &k, &v, seq, start, heads)?;
                Tensor::from_vec(out, [seq, heads * hd])
            }
        }
    }

    /// After every layer has attended: the `seq` new positions are cached.
    pub fn advance(&mut self, seq: usize) {
        self.len += seq;
    }

    /// Beam search over a dense cache whose KV heads are `beams` groups (one per hypothesis,
    /// beam-major): beam `b` continues from beam `parents[b]`, so it takes that beam's rows.
    pub async fn reorder_beams(&mut self, parents: &[u32]) -> Result<()> {
        let beams = parents.len();
        if parents.iter().enumerate().all(|(b, &p)| p as usize == b) {
            return Ok(());
        }
        let KvStore::Dense { keys, values } = &mut self.store else {
            return Err(Error::Model("beam search needs a dense KV cache".into()));
        };
        if beams == 0 || !self.kv_heads.is_multiple_of(beams) {
            return Err(Error::Model(format!("{} KV heads do not split into {beams} beams", self.kv_heads)));
        }
        let per_beam = self.kv_heads / beams * self.capacity * self.head_dim;
        for t in keys.iter_mut().chain(values.iter_mut()) {
            let shape = t.dims().to_vec();
            *t = ops::gather_rows(&t.reshape([beams, per_beam])?, parents).await?.reshape(shape)?;
        }
        Ok(())
    }

    /// Block caches: attention for layer `l` on the CPU. `q` is [seq, heads, hd] (roped), `k`
    /// and `v` [seq, kv_heads, hd]; they are appended at `start`, then each query row attends
    /// causally to positions ≤ start + its index. Returns [seq, heads, hd].
    #[allow(clippy::too_many_arguments)]
    fn attend_blocks(&mut self, l: usize, q: &[f32], k: &[f32], v: &[f32], seq: usize, start: usize, heads: usize) -> Result<Vec<f32>> {
        let (kvh, hd, cap) = (self.kv_heads, self.head_dim, self.capacity);
        let KvStore::Blocks { dtype, row_bytes, keys, values, sink_keys, sink_values } = &mut self.store else {
            return Err(Error::Model("attend_blocks on a dense KV cache".into()));
        };
        let (dtype, rb) = (*dtype, *row_bytes);
        let mut row = Vec::with_capacity(rb);
        for s in 0..seq {
            for h in 0..kvh {
                let at = (h * cap + start + s) * rb;
                let p = start + s;
                if p < SINK {
                    let at = (h * SINK + p) * hd;
                    sink_keys[l][at..at + hd].copy_from_slice(&k[(s * kvh + h) * hd..(s * kvh + h + 1) * hd]);
                    sink_values[l][at..at + hd].copy_from_slice(&v[(s * kvh + h) * hd..(s * kvh + h + 1) * hd]);
                    continue;
                }
                for (src, dst) in [(k, &mut keys[l]), (v, &mut values[l])] {
                    row.clear();
                    for block in src[(s * kvh + h) * hd..(s * kvh + h + 1) * hd].chunks_exact(dtype.block_len()) {
                        blocks::encode(dtype, block, &mut row);
                    }
                    dst[at..at + rb].copy_from_slice(&row);
                }
            }
        }
        let total = start + seq;
        let group = heads / kvh;
        let scale = 1.0 / (hd as f32).sqrt();
        let mut out = vec![0.0f32; seq * heads * hd];
        let (mut kd, mut vd) = (vec![0.0f32; total * hd], vec![0.0f32; total * hd]);
        let mut scores = vec![0.0f32; total];
        for h in 0..kvh {
            // Decode this head's rows once, then attend densely.
            for j in 0..total.min(SINK) {
                let at = (h * SINK + j) * hd;
                kd[j * hd..(j + 1) * hd].copy_from_slice(&sink_keys[l][at..at + hd]);
                vd[j * hd..(j + 1) * hd].copy_from_slice(&sink_values[l][at..at + hd]);
            }
            for j in SINK.min(total)..total {
                let at = (h * cap + j) * rb;
                blocks::decode_row(dtype, &keys[l][at..at + rb], &mut kd[j * hd..(j + 1) * hd]);
                blocks::decode_row(dtype, &values[l][at..at + rb], &mut vd[j * hd..(j + 1) * hd]);
            }
            for s in 0..seq {
                let visible = start + s + 1;
                for g in 0..group {
                    let head = h * group + g;
                    let qr = &q[(s * heads + head) * hd..(s * heads + head + 1) * hd];
                    let mut max = f32::NEG_INFINITY;
                    for (j, sc) in scores[..visible].iter_mut().enumerate() {
                        *sc = qr.iter().zip(&kd[j * hd..(j + 1) * hd]).map(|(a, b)| a * b).sum::<f32>() * scale;
                        max = max.max(*sc);
                    }
                    let mut sum = 0.0;
                    for sc in &mut scores[..visible] {
                        *sc = (*sc - max).exp();
                        sum += *sc;
                    }
                    let o = &mut out[(s * heads + head) * hd..(s * heads + head + 1) * hd];
                    for (j, &p) in scores[..visible].iter().enumerate() {
                        let w = p / sum;
                        for (oi, vi) in o.iter_mut().zip(&vd[j * hd..(j + 1) * hd]) {
                            *oi += w * vi;
                        }
                    }
                }
            }
        }
        Ok(out)
    }
}
