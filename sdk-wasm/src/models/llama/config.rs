//! A LLaMA GGUF file's hyper-parameters: read with every count bounded, then checked against
//! the file's tensor table (names and shapes, nothing copied) before the loader allocates.

use crate::error::{Error, Result};
use crate::weights::Gguf;

/// Bounds far above any LLaMA-family model (Llama-3 405B: 126 layers, width 16384, 128k
/// vocab) that keep loops short and products of two dimensions within u64.
const MAX_LAYERS: usize = 1024;
const MAX_WIDTH: usize = 1 << 16;
const MAX_HIDDEN: usize = 1 << 20;
const MAX_VOCAB: usize = 1 << 24;
const MAX_CONTEXT: usize = 1 << 24;

#[derive(Debug, Clone, PartialEq)]
pub struct LlamaConfig {
    pub layers: usize,
    pub dim: usize,
    pub hidden: usize,
    pub heads: usize,
    pub kv_heads: usize,
    pub vocab: usize,
    pub context: usize,
    pub rope_base: f64,
    pub eps: f32,
}

fn bad(detail: String) -> Error {
    Error::Model(format!("GGUF llama config: {detail}"))
}

impl LlamaConfig {
    pub fn from_gguf(g: &Gguf) -> Result<LlamaConfig> {
        let arch = g.string("general.architecture")?;
        if arch != "llama" {
            return Err(Error::Model(format!("unknown architecture {arch:?} (this loader reads \"llama\")")));
        }
        let u = |k: &str| -> Result<usize> {
            let v = g.uint(&format!("llama.{k}"))?;
            usize::try_from(v).map_err(|_| bad(format!("llama.{k} is {v}, more than this platform can count")))
        };
        let heads = u("attention.head_count")?;
        let cfg = LlamaConfig {
            layers: u("block_count")?,
            dim: u("embedding_length")?,
            hidden: u("feed_forward_length")?,
            heads,
            kv_heads: u("attention.head_count_kv").unwrap_or(heads),
            vocab: g.strings("tokenizer.ggml.tokens")?.len(),
            context: u("context_length")?,
            rope_base: g.float("llama.rope.freq_base").unwrap_or(10_000.0),
            eps: g.float("llama.attention.layer_norm_rms_epsilon")? as f32,
        };
        cfg.check_bounds()?;
        // Counts from the file size allocations: bound them by what the file can hold.
        if cfg.layers > g.tensors().len() {
            return Err(bad(format!("{} layers do not fit a file of {} tensors", cfg.layers, g.tensors().len())));
        }
        Ok(cfg)
    }

    /// Every count within its bound and the head layout consistent.
    pub fn check_bounds(&self) -> Result<()> {
        let counts = [
            ("block_count", self.layers, MAX_LAYERS),
            ("embedding_length", self.dim, MAX_WIDTH),
            ("feed_forward_length", self.hidden, MAX_HIDDEN),
            ("attention.head_count", self.heads, MAX_WIDTH),
            ("attention.head_count_kv", self.kv_heads, MAX_WIDTH),
            ("vocabulary size", self.vocab, MAX_VOCAB),
            ("context_length", self.context, MAX_CONTEXT),
        ];
        for (name, value, max) in counts {
            if !(1..=max).contains(&value) {
                return Err(bad(format!("{name} is {value}; expected 1..={max}")));
            }
        }
        if !self.dim.is_multiple_of(self.heads) || !self.heads.is_multiple_of(self.kv_heads) || !(self.dim / self.heads).is_multiple_of(2) {
            return Err(bad(format!("inconsistent head layout: {self:?}")));
        }
        if !(self.eps.is_finite() && self.eps > 0.0 && self.rope_base.is_finite() && self.rope_base > 0.0) {
            return Err(bad(format!("rms epsilon {} and rope base {} must be finite and > 0", self.eps, self.rope_base)));
        }
        Ok(())
    }

    pub fn head_dim(&self) -> usize {
        self.dim / self.heads
    }

    /// Every tensor the decoder reads, with its dims in GGUF order (innermost first);
    /// `output.weight` is optional (tied embeddings) and listed only when present.
    fn expected_tensors(&self, g: &Gguf) -> Vec<(String, Vec<usize>)> {
        let (d, ff, kv) = (self.dim, self.hidden, self.kv_heads * self.head_dim());
        let mut out = vec![("token_embd.weight".to_string(), vec![d, self.vocab]), ("output_norm.weight".to_string(), vec![d])];
        if g.tensor("output.weight").is_ok() {
            out.push(("output.weight".to_string(), vec![d, self.vocab]));
        }
        for l in 0..self.layers {
            let n = |s: &str| format!("blk.{l}.{s}.weight");
            out.extend([
                (n("attn_norm"), vec![d]),
                (n("attn_q"), vec![d, d]),
                (n("attn_k"), vec![d, kv]),
                (n("attn_v"), vec![d, kv]),
                (n("attn_output"), vec![d, d]),
                (n("ffn_norm"), vec![d]),
                (n("ffn_gate"), vec![d, ff]),
                (n("ffn_up"), vec![d, ff]),
                (n("ffn_down"), vec![ff, d]),
            ]);
        }
        out
    }

    /// The file holds every tensor this config implies, in its shape: checked on the table
    /// alone, before anything is copied out of the file.
    pub fn check_weights(&self, g: &Gguf) -> Result<()> {
        for (name, dims) in self.expected_tensors(g) {
            let (t, _) = g.tensor(&name).map_err(|_| bad(format!("the file has no {name} (the config implies it)")))?;
            if t.dims != dims {
                return Err(bad(format!("{name} has dims {:?}; the config implies {dims:?}", t.dims)));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A GGUF v3 file with llama metadata and f32 tensors of the given dims (all zeros).
    fn file(meta: &[(&str, u64)], tensors: &[(String, Vec<usize>)]) -> Vec<u8> {
        let mut b = b"GGUF".to_vec();
        let s = |b: &mut Vec<u8>, s: &str| {
            b.extend((s.len() as u64).to_le_bytes());
            b.extend(s.as_bytes());
        };
        b.extend(3u32.to_le_bytes());
        b.extend((tensors.len() as u64).to_le_bytes());
        b.extend((meta.len() as u64 + 3).to_le_bytes());
        s(&mut b, "general.architecture");
        b.extend(8u32.to_le_bytes());
        s(&mut b, "llama");
        s(&mut b, "llama.attention.layer_norm_rms_epsilon");
        b.extend(6u32.to_le_bytes());
        b.extend(1e-5f32.to_le_bytes());
        s(&mut b, "tokenizer.ggml.tokens");
        b.extend(9u32.to_le_bytes());
        b.extend(8u32.to_le_bytes());
        b.extend(4u64.to_le_bytes());
        for t in ["a", "b", "c", "d"] {
            s(&mut b, t);
        }
        for (k, v) in meta {
            s(&mut b, &format!("llama.{k}"));
            b.extend(10u32.to_le_bytes());
            b.extend(v.to_le_bytes());
        }
        let mut offset = 0u64;
        for (name, dims) in tensors {
            s(&mut b, name);
            b.extend((dims.len() as u32).to_le_bytes());
            dims.iter().for_each(|d| b.extend((*d as u64).to_le_bytes()));
            b.extend(0u32.to_le_bytes());
            b.extend(offset.to_le_bytes());
            offset += (dims.iter().product::<usize>() as u64 * 4).next_multiple_of(32);
        }
        b.resize(b.len().next_multiple_of(32) + offset as usize, 0);
        b
    }

    fn meta(layers: u64) -> Vec<(&'static str, u64)> {
        vec![
            ("block_count", layers),
            ("embedding_length", 8),
            ("feed_forward_length", 16),
            ("attention.head_count", 2),
            ("context_length", 32),
        ]
    }

    fn config(layers: usize) -> LlamaConfig {
        LlamaConfig { layers, dim: 8, hidden: 16, heads: 2, kv_heads: 2, vocab: 4, context: 32, rope_base: 1e4, eps: 1e-5 }
    }

    #[test]
    fn absurd_counts_are_refused_before_anything_is_allocated() {
        let tensors = config(1).expected_tensors(&Gguf::parse(&file(&meta(1), &[])).unwrap());
        for (layers, named) in [(1_000_000_000, "block_count"), (1_000_000_000_000_000_000, "block_count"), (0, "block_count")] {
            let f = file(&meta(layers), &tensors);
            let err = LlamaConfig::from_gguf(&Gguf::parse(&f).unwrap()).unwrap_err().to_string();
            assert!(err.contains(named), "{layers}: {err}");
        }
        let mut m = meta(1);
        m[3].1 = 0;
        let err = LlamaConfig::from_gguf(&Gguf::parse(&file(&m, &tensors)).unwrap()).unwrap_err().to_string();
        assert!(err.contains("attention.head_count is 0"), "{err}");
        assert_eq!(LlamaConfig::from_gguf(&Gguf::parse(&file(&meta(1), &tensors)).unwrap()).unwrap(), config(1));
    }

    #[test]
    fn the_config_is_checked_against_the_tensor_table() {
        let empty = file(&meta(1), &[]);
        let one_layer = config(1).expected_tensors(&Gguf::parse(&empty).unwrap());
        // The config claims 2 layers, the file holds 1: blk.1 is named.
        let f = file(&meta(2), &one_layer);
        let g = Gguf::parse(&f).unwrap();
        let err = LlamaConfig::from_gguf(&g).unwrap().check_weights(&g).unwrap_err().to_string();
        assert!(err.contains("blk.1.attn_norm.weight"), "{err}");
        // A tensor narrower than the config says.
        let mut wrong = one_layer.clone();
        wrong[3].1 = vec![8, 4];
        let f = file(&meta(1), &wrong);
        let g = Gguf::parse(&f).unwrap();
        let err = LlamaConfig::from_gguf(&g).unwrap().check_weights(&g).unwrap_err().to_string();
        assert!(err.contains(&wrong[3].0) && err.contains("[8, 4]"), "{err}");
        let f = file(&meta(1), &one_layer);
        let g = Gguf::parse(&f).unwrap();
        LlamaConfig::from_gguf(&g).unwrap().check_weights(&g).unwrap();
    }
}
