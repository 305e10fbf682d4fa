//! The models `accelerate run`/`bench` know, and which of their files each backend runs.

/// A model fixture (installed by `cargo xtask setup` into the model cache).
#[derive(Debug, Clone, Copy)]
pub struct ModelSpec {
    pub name: &'static str,
    pub description: &'static str,
    /// Directory under the model cache.
    pub dir: &'static str,
    /// The weight file our SDK loads (safetensors, or an ONNX export it extracts weights from,
    /// int8 ones included).
    pub ours_weights: Option<&'static str>,
    /// The ONNX file ONNX Runtime (native and web) and transformers.js run.
    pub onnx_weights: Option<&'static str>,
    pub safetensors_weights: Option<&'static str>,
    pub max_tokens: usize,
    /// The file's linear weights are int8 (compared with the f32 model's reference).
    pub int8: bool,
    /// transformers.js runs the ONNX file with this `dtype` ("q8" selects model_quantized.onnx).
    pub transformers_js_dtype: Option<&'static str>,
    /// Where the reference embeddings of the test sentences are: (JSON, model key or "").
    pub reference: Reference,
    /// The encoder's size, from the fixture's config.json: what a forward pass costs.
    pub shape: BertShape,
}

/// The dimensions that set a BERT encoder's arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BertShape {
    pub layers: usize,
    pub hidden: usize,
    pub intermediate: usize,
}

impl BertShape {
    /// Multiply-adds ×2 of one forward pass over `batch` sequences of `seq` tokens: the four
    /// attention projections and the two feed-forward matmuls per token, plus QKᵀ and ×V.
    pub fn forward_flops(&self, batch: usize, seq: usize) -> f64 {
        let (tokens, h, f) = ((batch * seq) as f64, self.hidden as f64, self.intermediate as f64);
        let per_token = 2.0 * (4.0 * h * h + 2.0 * h * f);
        let attention = 4.0 * (batch * seq * seq) as f64 * h;
        self.layers as f64 * (tokens * per_token + attention)
    }
}

const MINILM_L6: BertShape = BertShape { layers: 6, hidden: 384, intermediate: 1536 };

#[derive(Debug, Clone, Copy)]
pub enum Reference {
    /// scripts/reference/minilm_embeddings.py (numpy f64 forward on the f32 safetensors).
    NumpyL6,
    /// scripts/reference/onnx_minilm_embeddings.py (onnxruntime on the ONNX file), by key.
    OnnxRuntime(&'static str),
}

pub const MODELS: [ModelSpec; 3] = [
    ModelSpec {
        name: "minilm",
        description: "all-MiniLM-L6-v2, f32 safetensors",
        dir: "all-minilm-l6-v2",
        ours_weights: Some("model.safetensors"),
        onnx_weights: None,
        safetensors_weights: Some("model.safetensors"),
        max_tokens: 256,
        int8: false,
        transformers_js_dtype: None,
        reference: Reference::NumpyL6,
        shape: MINILM_L6,
    },
    ModelSpec {
        name: "minilm-int8",
        description: "all-MiniLM-L6-v2, int8 ONNX (ours runs its int8 weights with int8 kernels on the CPU, dequantized elsewhere)",
        dir: "all-minilm-l6-v2-int8",
        ours_weights: Some("model.onnx"),
        onnx_weights: Some("model.onnx"),
        safetensors_weights: None,
        max_tokens: 256,
        int8: true,
        transformers_js_dtype: Some("q8"),
        // Compared with the f32 model's reference: the gap is the cost of int8.
        reference: Reference::NumpyL6,
        shape: MINILM_L6,
    },
    ModelSpec {
        name: "minilm-l3",
        description: "paraphrase-MiniLM-L3-v2, f32 ONNX (ours runs its extracted weights)",
        dir: "paraphrase-minilm-l3-v2",
        ours_weights: Some("paraphrase-MiniLM-L3-v2.onnx"),
        onnx_weights: Some("paraphrase-MiniLM-L3-v2.onnx"),
        safetensors_weights: None,
        max_tokens: 128,
        int8: false,
        // Its ONNX outputs are not named last_hidden_state, which transformers.js requires.
        transformers_js_dtype: None,
        reference: Reference::OnnxRuntime("paraphrase-minilm-l3-v2"),
        shape: BertShape { layers: 3, hidden: 384, intermediate: 1536 },
    },
];

/// The weights' type a case ran with: int8 for the int8 model files and for backends that
/// quantize at load (labels ending in `-int8`), f32 otherwise.
pub fn weight_dtype(model: &str, backend: &str) -> &'static str {
    let int8_file = MODELS.iter().any(|m| m.name == model && m.int8);
    if int8_file || backend.ends_with("-int8") {
        "int8"
    } else {
        "f32"
    }
}

impl ModelSpec {
    pub fn find(name: &str) -> crate::Result<&'static ModelSpec> {
        MODELS.iter().find(|m| m.name == name).ok_or_else(|| {
            let known: Vec<&str> = MODELS.iter().map(|m| m.name).collect();
            crate::HostError::Invalid(format!("unknown model {name:?}; known: {}", known.join(", ")))
        })
    }

    pub fn dir(&self) -> std::path::PathBuf {
        crate::paths::model_cache().join(self.dir)
    }
}

impl ModelSpec {
    /// Our tokenizer for this model, truncating at its `max_tokens`: every native backend is
    /// fed the same ids.
    pub fn tokenizer(&self) -> crate::Result<ipfs_accelerate::text::TextTokenizer> {
        self.tokenizer_truncating_at(self.max_tokens)
    }

    pub fn tokenizer_truncating_at(&self, max_tokens: usize) -> crate::Result<ipfs_accelerate::text::TextTokenizer> {
        let path = self.dir().join("tokenizer.json");
        let bytes = std::fs::read(&path).map_err(|e| {
            crate::HostError::Invalid(format!("{}: {e} (run `cargo xtask setup` to install the model fixtures)", path.display()))
        })?;
        Ok(ipfs_accelerate::text::TextTokenizer::from_json(&bytes, max_tokens)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_models_shape_is_what_its_config_says() {
        for model in MODELS {
            let path = model.dir().join("config.json");
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e} (run `cargo xtask setup`)", path.display()));
            let config: serde_json::Value = serde_json::from_str(&text).unwrap();
            let field = |name: &str| config[name].as_u64().unwrap_or_else(|| panic!("{}: no {name}", path.display())) as usize;
            let want =
                BertShape { layers: field("num_hidden_layers"), hidden: field("hidden_size"), intermediate: field("intermediate_size") };
            assert_eq!(model.shape, want, "{}", model.name);
        }
    }

    #[test]
    fn forward_flops_count_projections_feed_forward_and_attention() {
        let s = BertShape { layers: 1, hidden: 2, intermediate: 3 };
        // per token 2·(4·4 + 2·2·3) = 56; attention 4·(1·2·2)·2 = 32.
        assert_eq!(s.forward_flops(1, 2), 2.0 * 56.0 + 32.0);
        assert_eq!(MODELS[0].shape.forward_flops(8, 128), 2.0 * MODELS[2].shape.forward_flops(8, 128));
    }
}
