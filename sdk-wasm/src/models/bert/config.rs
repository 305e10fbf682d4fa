//! A BERT `config.json`: parsed with every dimension bounded, then checked against the weight
//! file's table (names and shapes, nothing read) before the loader allocates anything. A
//! config is untrusted input: `num_hidden_layers: 1000000000` must be an error, not an abort.

use crate::core::error::{Error, Result};
use crate::weights::WeightSource;
use serde::Deserialize;
use std::ops::Range;

/// Bounds far above any BERT (BERT-large: 24 layers, width 1024, vocab 30k, 512 positions)
/// that keep every product of two of them within u64 and any loop over layers short.
const MAX_LAYERS: usize = 1024;
const MAX_WIDTH: usize = 1 << 16;
const MAX_INTERMEDIATE: usize = 1 << 20;
const MAX_POSITIONS: usize = 1 << 20;
const MAX_VOCAB: usize = 1 << 24;

#[derive(Debug, Clone, Deserialize)]
pub struct BertConfig {
    pub model_type: String,
    pub hidden_size: usize,
    pub num_attention_heads: usize,
    pub num_hidden_layers: usize,
    pub intermediate_size: usize,
    pub max_position_embeddings: usize,
    pub vocab_size: usize,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f32,
    #[serde(default)]
    pub hidden_act: Option<String>,
}

fn default_eps() -> f32 {
    1e-12
}

fn bad(detail: String) -> Error {
    Error::Model(format!("config.json: {detail}"))
}

impl BertConfig {
    pub fn from_json(text: &str) -> Result<BertConfig> {
        let config: BertConfig = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        if config.model_type != "bert" {
            return Err(Error::Model(format!("unknown architecture {:?}: this loader handles \"bert\"", config.model_type)));
        }
        if let Some(act) = config.hidden_act.as_deref().filter(|a| *a != "gelu") {
            return Err(Error::Model(format!("hidden_act {act:?} is not supported (only exact \"gelu\")")));
        }
        config.check_bounds()?;
        Ok(config)
    }

    /// Every dimension within its bound, heads dividing the width, a usable epsilon.
    pub fn check_bounds(&self) -> Result<()> {
        let dims = [
            ("hidden_size", self.hidden_size, MAX_WIDTH),
            ("num_attention_heads", self.num_attention_heads, MAX_WIDTH),
            ("num_hidden_layers", self.num_hidden_layers, MAX_LAYERS),
            ("intermediate_size", self.intermediate_size, MAX_INTERMEDIATE),
            ("max_position_embeddings", self.max_position_embeddings, MAX_POSITIONS),
            ("vocab_size", self.vocab_size, MAX_VOCAB),
        ];
        for (name, value, max) in dims {
            if !(1..=max).contains(&value) {
                return Err(bad(format!("{name} is {value}; expected 1..={max}")));
            }
        }
        if !self.hidden_size.is_multiple_of(self.num_attention_heads) {
            return Err(bad(format!("hidden_size {} is not divisible by {} heads", self.hidden_size, self.num_attention_heads)));
        }
        if !(self.layer_norm_eps.is_finite() && self.layer_norm_eps > 0.0) {
            return Err(bad(format!("layer_norm_eps is {}; expected a finite number > 0", self.layer_norm_eps)));
        }
        Ok(())
    }

    /// Every weight the model reads, with the shape this config implies (None: any number of
    /// rows of width `hidden_size`, the token-type table of which only row 0 is used).
    fn expected_weights(&self) -> Vec<(String, Option<Vec<usize>>)> {
        self.part_weights(&(0..self.num_hidden_layers))
    }

    /// The weights of `layers`, and the embeddings' when the range starts at 0: what a shard
    /// stage serving those layers reads.
    pub fn part_weights(&self, layers: &Range<usize>) -> Vec<(String, Option<Vec<usize>>)> {
        let (h, ff) = (self.hidden_size, self.intermediate_size);
        let mut out = Vec::new();
        let norm = |out: &mut Vec<_>, p: &str| {
            out.push((format!("{p}.weight"), Some(vec![h])));
            out.push((format!("{p}.bias"), Some(vec![h])));
        };
        if layers.start == 0 {
            out.push(("embeddings.word_embeddings.weight".to_string(), Some(vec![self.vocab_size, h])));
            out.push(("embeddings.position_embeddings.weight".to_string(), Some(vec![self.max_position_embeddings, h])));
            out.push(("embeddings.token_type_embeddings.weight".to_string(), None));
            norm(&mut out, "embeddings.LayerNorm");
        }
        let linear = |out: &mut Vec<_>, p: &str, inputs: usize, outputs: usize| {
            out.push((format!("{p}.weight"), Some(vec![outputs, inputs])));
            out.push((format!("{p}.bias"), Some(vec![outputs])));
        };
        for i in layers.clone() {
            let p = format!("encoder.layer.{i}");
            for part in ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"] {
                linear(&mut out, &format!("{p}.{part}"), h, h);
            }
            norm(&mut out, &format!("{p}.attention.output.LayerNorm"));
            linear(&mut out, &format!("{p}.intermediate.dense"), h, ff);
            linear(&mut out, &format!("{p}.output.dense"), ff, h);
            norm(&mut out, &format!("{p}.output.LayerNorm"));
        }
        out
    }

    /// `layers` is a range of this model's layers (possibly empty: embeddings only).
    pub fn check_part(&self, layers: &Range<usize>) -> Result<()> {
        if layers.start > layers.end || layers.end > self.num_hidden_layers {
            return Err(bad(format!("layers {layers:?} are not a range of the model's 0..{}", self.num_hidden_layers)));
        }
        Ok(())
    }

    /// The weight file holds every tensor this config implies, in its shape, and no further
    /// layer: checked on the file's table alone, before anything is read or allocated.
    pub fn check_weights(&self, weights: &dyn WeightSource) -> Result<()> {
        for (name, expected) in self.expected_weights() {
            let dims = weights.dims(&name).ok_or_else(|| bad(format!("the weights have no {name} (config implies it)")))?;
            let fits = match &expected {
                Some(shape) => dims == *shape,
                None => dims.len() == 2 && dims[0] >= 1 && dims[1] == self.hidden_size,
            };
            if !fits {
                let want = expected.map_or(format!("[rows ≥ 1, {}]", self.hidden_size), |s| format!("{s:?}"));
                return Err(bad(format!("{name} has shape {dims:?} in the weights; the config implies {want}")));
            }
        }
        let extra = format!("encoder.layer.{}.attention.self.query.weight", self.num_hidden_layers);
        if weights.dims(&extra).is_some() {
            return Err(bad(format!("num_hidden_layers is {}, but the weights have more layers ({extra})", self.num_hidden_layers)));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::Tensor;
    use crate::weights::NamedTensors;

    fn json(layers: &str, heads: &str) -> String {
        format!(
            r#"{{"model_type":"bert","hidden_size":8,"num_attention_heads":{heads},"num_hidden_layers":{layers},
            "intermediate_size":16,"max_position_embeddings":4,"vocab_size":10}}"#
        )
    }

    #[test]
    fn absurd_dimensions_are_refused_at_parse_time() {
        for (layers, heads, named) in [
            ("1000000000", "2", "num_hidden_layers"),
            ("1000000000000000000", "2", "num_hidden_layers"),
            ("0", "2", "num_hidden_layers"),
            ("1", "0", "num_attention_heads"),
            ("1", "3", "divisible"),
        ] {
            let err = BertConfig::from_json(&json(layers, heads)).unwrap_err().to_string();
            assert!(err.starts_with("model: config.json: ") && err.contains(named), "{layers}/{heads}: {err}");
        }
        // 1e9 written as a float is not a count at all.
        assert!(BertConfig::from_json(&json("1e9", "2")).is_err());
        BertConfig::from_json(&json("1", "2")).unwrap();
    }

    /// The weights of `layers` layers of the `json(…)` config, all zeros.
    fn weights(layers: usize) -> NamedTensors {
        let config = BertConfig::from_json(&json(&layers.to_string(), "2")).unwrap();
        let mut tensors = NamedTensors { format: "test", ..NamedTensors::default() };
        for (name, shape) in config.expected_weights() {
            let shape = shape.unwrap_or(vec![2, 8]);
            tensors.tensors.insert(name, Tensor::from_vec(vec![0.0; shape.iter().product()], shape).unwrap());
        }
        tensors
    }

    #[test]
    fn a_config_is_checked_against_the_weight_table_before_loading() {
        let config = BertConfig::from_json(&json("2", "2")).unwrap();
        config.check_weights(&weights(2)).unwrap();
        // Config says 2 layers; the file has 1: named, before anything is read.
        let err = config.check_weights(&weights(1)).unwrap_err().to_string();
        assert!(err.contains("encoder.layer.1.") && err.contains("no "), "{err}");
        // The file has more layers than the config.
        let err = config.check_weights(&weights(3)).unwrap_err().to_string();
        assert!(err.contains("more layers"), "{err}");
        // A wider config than the weights.
        let wide = BertConfig { intermediate_size: 32, ..config };
        let err = wide.check_weights(&weights(2)).unwrap_err().to_string();
        assert!(err.contains("intermediate.dense.weight") && err.contains("[32, 8]"), "{err}");
    }
}
