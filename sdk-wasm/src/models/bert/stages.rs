//! BERT run in stages — embeddings, a range of layers, pooling — so one model can be split
//! over several workers (sharding). Between stages the hidden states travel as bytes.

use super::{mean_pool_normalize, Bert, Padded, Pooling};
use crate::core::error::{Error, Result};
use crate::tensor::Tensor;
use crate::text::Encoding;
use std::ops::Range;

/// Hidden states of one padded batch between stages: [batch·seq, width] plus the mask.
#[derive(Debug, Clone, PartialEq)]
pub struct Activations {
    pub batch: usize,
    pub seq: usize,
    pub width: usize,
    pub mask: Vec<u32>,
    pub hidden: Vec<f32>,
}

/// Format tag of the byte form ("IPA" + version).
const MAGIC: &[u8; 4] = b"IPA1";

impl Activations {
    /// MAGIC, then batch, seq, width as u32 LE, the mask (u32 LE), the hidden states (f32 LE).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + 4 * (self.mask.len() + self.hidden.len()));
        out.extend_from_slice(MAGIC);
        for d in [self.batch, self.seq, self.width] {
            out.extend_from_slice(&(d as u32).to_le_bytes());
        }
        out.extend(self.mask.iter().flat_map(|m| m.to_le_bytes()));
        out.extend(self.hidden.iter().flat_map(|v| v.to_le_bytes()));
        out
    }

    /// Parse the byte form; any inconsistency is an error naming it, never a panic.
    pub fn from_bytes(bytes: &[u8]) -> Result<Activations> {
        let bad = |why: String| Error::Model(format!("activations: {why}"));
        if bytes.len() < 16 || &bytes[..4] != MAGIC {
            return Err(bad(format!("{} bytes without the {MAGIC:?} header", bytes.len())));
        }
        let dim = |i: usize| u32::from_le_bytes([bytes[4 + 4 * i], bytes[5 + 4 * i], bytes[6 + 4 * i], bytes[7 + 4 * i]]) as usize;
        let (batch, seq, width) = (dim(0), dim(1), dim(2));
        let tokens = batch.checked_mul(seq).ok_or_else(|| bad("batch × seq overflows".into()))?;
        let values = tokens.checked_mul(width).ok_or_else(|| bad("size overflows".into()))?;
        let want = tokens
            .checked_add(values)
            .and_then(|w| w.checked_mul(4))
            .and_then(|b| b.checked_add(16))
            .ok_or_else(|| bad("size overflows".into()))?;
        if bytes.len() != want {
            return Err(bad(format!("{batch}×{seq}×{width} needs {want} bytes, got {}", bytes.len())));
        }
        let words = |from: usize, n: usize| bytes[from..from + 4 * n].chunks_exact(4).map(|c| [c[0], c[1], c[2], c[3]]);
        Ok(Activations {
            batch,
            seq,
            width,
            mask: words(16, tokens).map(u32::from_le_bytes).collect(),
            hidden: words(16 + 4 * tokens, values).map(f32::from_le_bytes).collect(),
        })
    }
}

impl Bert {
    /// Layers of the config (whether or not this model holds them all).
    pub fn layer_count(&self) -> usize {
        self.config.num_hidden_layers
    }

    /// The layers this model holds: all, or a shard stage's part.
    pub fn held_layers(&self) -> Range<usize> {
        self.first_layer..self.first_layer + self.layers.len()
    }

    /// The first stage: the sequences as one padded batch, embedded.
    pub async fn embed_stage(&self, sequences: &[Encoding]) -> Result<Activations> {
        if sequences.is_empty() || sequences.iter().any(|e| e.ids.is_empty() || e.ids.len() > self.config.max_position_embeddings) {
            return Err(Error::Model(format!("each sequence needs 1..={} tokens", self.config.max_position_embeddings)));
        }
        let p = Padded::new(sequences);
        let hidden = self.embeddings(&p).await?.to_vec().await?;
        Ok(Activations { batch: p.batch, seq: p.seq, width: self.config.hidden_size, mask: p.mask, hidden })
    }

    /// Layers `range` (0-based, end exclusive) over `x`.
    pub async fn layers_stage(&self, x: &Activations, range: Range<usize>) -> Result<Activations> {
        let h = self.config.hidden_size;
        let held = self.held_layers();
        if range.start > range.end || range.start < held.start || range.end > held.end {
            return Err(Error::Model(format!("layers {range:?} outside the {held:?} this model holds")));
        }
        if x.width != h || x.mask.len() != x.batch * x.seq || x.hidden.len() != x.batch * x.seq * h {
            return Err(Error::Model(format!("activations {}×{}×{} do not fit this model (hidden {h})", x.batch, x.seq, x.width)));
        }
        let mut t = Tensor::from_vec(x.hidden.clone(), [x.batch * x.seq, h])?.to_device(&self.device).await?;
        let bias = self.mask_bias(&x.mask, x.batch, x.seq).await?;
        for layer in &self.layers[range.start - held.start..range.end - held.start] {
            t = self.layer(layer, &t, &bias, x.batch, x.seq, h).await?;
        }
        Ok(Activations { hidden: t.to_vec().await?, ..x.clone() })
    }

    /// The last stage: one L2-normalised vector per sequence.
    pub fn pool_stage(&self, x: &Activations, pooling: Pooling) -> Vec<Vec<f32>> {
        let w = x.width;
        (0..x.batch)
            .map(|b| {
                let rows = &x.hidden[b * x.seq * w..(b + 1) * x.seq * w];
                match pooling {
                    Pooling::Mean => mean_pool_normalize(rows, &x.mask[b * x.seq..(b + 1) * x.seq], w),
                    Pooling::Cls => mean_pool_normalize(&rows[..w], &[1], w),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::Activations;

    #[test]
    fn activations_round_trip_and_bad_bytes_are_errors() {
        let a = Activations { batch: 2, seq: 3, width: 2, mask: vec![1, 1, 0, 1, 1, 1], hidden: (0..12).map(|i| i as f32 * 0.5).collect() };
        let bytes = a.to_bytes();
        assert_eq!(Activations::from_bytes(&bytes).ok(), Some(a));
        for cut in [0, 3, 15, 16, bytes.len() - 1] {
            assert!(Activations::from_bytes(&bytes[..cut]).is_err(), "{cut} bytes");
        }
        let mut huge = bytes.clone();
        huge[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        huge[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(Activations::from_bytes(&huge).is_err());
        // tokens · width fits in 64 bits, tokens + tokens · width does not (an addition that
        // once wrapped): 2¹⁶ × 2¹⁶ tokens of width 2³² − 1.
        huge[4..8].copy_from_slice(&65536u32.to_le_bytes());
        huge[8..12].copy_from_slice(&65536u32.to_le_bytes());
        huge[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(Activations::from_bytes(&huge).unwrap_err().to_string().contains("overflows"));
    }
}
