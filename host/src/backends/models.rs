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
}

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
    },
];

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
