//! candle's quantized LLaMA (candle-transformers `quantized_llama`) on the CPU, over the same
//! GGUF file: the native comparison backend for text generation. Its weights stay in their
//! GGUF block format and multiply through candle's own quantized kernels.

use crate::error::{HostError, Result};
use candle_core::quantized::gguf_file;
use candle_core::{Device, Tensor};
use candle_transformers::models::quantized_llama::ModelWeights;
use std::path::Path;

fn err(message: impl std::fmt::Display) -> HostError {
    HostError::Backend { backend: "candle", message: message.to_string() }
}

pub struct CandleLlama {
    /// As loaded: a clone starts each generation with an empty KV cache.
    pristine: ModelWeights,
    model: ModelWeights,
    /// Positions already in the KV cache.
    position: usize,
}

impl CandleLlama {
    pub fn load(path: &Path) -> Result<CandleLlama> {
        let mut file = std::fs::File::open(path).map_err(|e| err(format!("{}: {e}", path.display())))?;
        let content = gguf_file::Content::read(&mut file).map_err(|e| err(format!("{}: {e}", path.display())))?;
        let model = ModelWeights::from_gguf(content, &mut file, &Device::Cpu).map_err(err)?;
        Ok(CandleLlama { pristine: model.clone(), model, position: 0 })
    }

    /// Forget the previous generation.
    pub fn reset(&mut self) {
        self.model = self.pristine.clone();
        self.position = 0;
    }

    /// Run `ids` after what the cache holds; the logits of the last position.
    pub fn forward(&mut self, ids: &[u32]) -> Result<Vec<f32>> {
        let input = Tensor::new(ids, &Device::Cpu).and_then(|t| t.unsqueeze(0)).map_err(err)?;
        let logits = self.model.forward(&input, self.position).map_err(err)?;
        self.position += ids.len();
        logits.squeeze(0).and_then(|t| t.to_vec1::<f32>()).map_err(err)
    }
}
