//! Whisper's text decoder: token and learned position embeddings, pre-norm layers of masked
//! self-attention (through the shared `KvCache`), cross-attention over the encoder's output
//! (its keys and values computed once per audio window) and a feed-forward block, a final
//! layer norm, and logits through the token embeddings (tied).

use super::encoder::{head_part, Layer as EncoderLayer};
use super::weights::Weights;
use crate::core::error::Result;
use crate::core::DType;
use crate::device::Device;
use crate::models::generation::KvCache;
use crate::models::layers::{merge_heads, LayerNorm, Linear};
use crate::ops;
use crate::tensor::Tensor;

struct Layer {
    /// Self-attention, feed-forward and their norms, laid out as an encoder layer's.
    own: EncoderLayer,
    cross_norm: LayerNorm,
    cross_query: Linear,
    /// Fused key, value over the encoder output: [d, 2d].
    cross_kv: Linear,
    cross_out: Linear,
}

/// Per layer, the encoder output's keys and values [heads, positions, d/heads].
pub struct CrossKv(Vec<(Tensor, Tensor)>);

pub(super) struct Decoder {
    /// Token embeddings [vocab, d]: looked up by row, and the output projection (tied).
    embeddings: Tensor,
    positions: Tensor,
    layers: Vec<Layer>,
    norm: LayerNorm,
    heads: usize,
    d: usize,
}

impl Decoder {
    pub async fn load(w: &Weights<'_, '_>, d: usize, heads: usize, vocab: usize, context: usize) -> Result<Decoder> {
        let mut layers = Vec::new();
        for i in 0..w.count_layers("decoder") {
            let p = format!("decoder/layer_{i}");
            layers.push(Layer {
                own: EncoderLayer::load(w, &p, d).await?,
                cross_norm: w.norm(&format!("{p}/attention/layer_norm"), d).await?,
                cross_query: w.linear(&format!("{p}/attention/linear_0"), d, d).await?,
                cross_kv: w.linear(&format!("{p}/attention/linear_1"), d, 2 * d).await?,
                cross_out: w.linear(&format!("{p}/attention/linear_2"), d, d).await?,
            });
        }
        Ok(Decoder {
            embeddings: w.file.tensor("decoder/embeddings/weight", &[vocab, d])?.to_device(w.device).await?,
            positions: w.file.tensor("decoder/position_encodings/encodings", &[context, d])?.to_device(w.device).await?,
            layers,
            norm: w.norm("decoder/layer_norm", d).await?,
            heads,
            d,
        })
    }

    pub fn layer_count(&self) -> usize {
        self.layers.len()
    }

    /// An empty self-attention cache for `capacity` positions of `beams` hypotheses (their
    /// heads side by side, beam-major, as `KvCache::reorder_beams` expects).
    pub fn cache(&self, capacity: usize, beams: usize, device: &Device) -> Result<KvCache> {
        KvCache::new(self.layers.len(), beams * self.heads, capacity, self.d / self.heads, (DType::F32, false), device)
    }

    /// The encoder output's keys and values for every layer's cross-attention.
    pub async fn cross_kv(&self, encoded: &Tensor) -> Result<CrossKv> {
        let positions = encoded.dims()[0];
        let mut out = Vec::with_capacity(self.layers.len());
        for l in &self.layers {
            let kv = l.cross_kv.forward(encoded).await?;
            out.push((head_part(&kv, 0, 2, positions, self.heads).await?, head_part(&kv, 1, 2, positions, self.heads).await?));
        }
        Ok(CrossKv(out))
    }

    /// One step of `tokens.len()` hypotheses (beams), each one token at the cache's next
    /// position: their logits, beam after beam ([beams × vocab]). The cache then holds it.
    pub async fn step(&self, tokens: &[u32], cache: &mut KvCache, cross: &CrossKv) -> Result<Vec<f32>> {
        let (beams, hd) = (tokens.len(), self.d / self.heads);
        let mut x = ops::add(
            &ops::gather_rows(&self.embeddings, tokens).await?,
            &ops::gather_rows(&self.positions, &vec![cache.len as u32; beams]).await?,
        )
        .await?;
        let device = x.device();
        let mask = cache.causal_mask(1, 1, &device)?;
        let scale = 1.0 / (hd as f32).sqrt();
        for (i, (l, (ck, cv))) in self.layers.iter().zip(&cross.0).enumerate() {
            let h = l.own.attention_norm.forward(&x, super::LAYER_NORM_EPS).await?;
            let qkv = l.own.qkv.forward(&h).await?;
            // Each beam's heads are KV heads of its own in the cache: [1 position, beams·heads, hd].
            let rows = |part: usize| {
                let view = qkv.strided_view([beams, self.heads, hd], vec![3 * self.d, hd, 1], part * self.d);
                async move { ops::contiguous(&view?).await?.reshape([1, beams * self.heads, hd]) }
            };
            let attended = cache.attend(i, &rows(0).await?, &rows(1).await?, &rows(2).await?, mask.as_ref()).await?;
            x = ops::add(&x, &l.own.out.forward(&attended.reshape([beams, self.d])?).await?).await?;
            // Every beam reads the same encoder output: the beams are its query rows.
            let h = l.cross_norm.forward(&x, super::LAYER_NORM_EPS).await?;
            let q = head_part(&l.cross_query.forward(&h).await?, 0, 1, beams, self.heads).await?;
            let context = merge_heads(&ops::attention(&q, ck, cv, None, scale).await?, 1, beams, self.heads).await?;
            x = ops::add(&x, &l.cross_out.forward(&context).await?).await?;
            x = l.own.feed_forward(&x).await?;
        }
        cache.advance(1);
        let x = self.norm.forward(&x, super::LAYER_NORM_EPS).await?;
        // [vocab, d] · [d, beams]: the embeddings as they are stored, no transposed copy.
        let by_token = ops::matmul(&self.embeddings, &ops::contiguous(&x.permute(&[1, 0])?).await?).await?.to_vec().await?;
        let vocab = by_token.len() / beams;
        Ok((0..beams * vocab).map(|i| by_token[(i % vocab) * beams + i / vocab]).collect())
    }
}
