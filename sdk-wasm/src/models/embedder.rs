//! A sentence embedder: tokenizer + BERT encoder + mean pooling, built from a model's files.
//! The one entry point the JS API, the native host and the tests share.

use crate::device::Device;
use crate::error::{Error, Result};
use crate::models::bert::{Bert, BertConfig};
use crate::models::bert_onnx::bert_weights_from_onnx;
use crate::text::{Encoding, TextTokenizer};
use crate::weights::{OnnxModel, SafeTensors};

/// How the weight file is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightsFormat {
    SafeTensors,
    Onnx,
}

impl WeightsFormat {
    /// By file extension: `.safetensors` or `.onnx`.
    pub fn from_file_name(name: &str) -> Result<WeightsFormat> {
        match name.rsplit('.').next() {
            Some("safetensors") => Ok(WeightsFormat::SafeTensors),
            Some("onnx") => Ok(WeightsFormat::Onnx),
            _ => Err(Error::Model(format!("weight file {name:?}: expected a .safetensors or .onnx file"))),
        }
    }
}

pub struct SentenceEmbedder {
    model: Bert,
    tokenizer: TextTokenizer,
    max_tokens: usize,
}

impl SentenceEmbedder {
    /// Build from the bytes of `config.json`, `tokenizer.json` and the weight file. Inputs are
    /// truncated to `max_tokens` (default: the tokenizer file's own limit, else the model's).
    pub async fn from_bytes(
        config_json: &str,
        tokenizer_json: &[u8],
        weights: &[u8],
        format: WeightsFormat,
        device: &Device,
        max_tokens: Option<usize>,
    ) -> Result<SentenceEmbedder> {
        let config = BertConfig::from_json(config_json)?;
        let limit = config.max_position_embeddings;
        let wanted = max_tokens.or_else(|| TextTokenizer::configured_max_length(tokenizer_json)).unwrap_or(limit);
        if wanted == 0 {
            return Err(Error::Model("maxTokens must be at least 1".into()));
        }
        let max_tokens = wanted.min(limit);
        let tokenizer = TextTokenizer::from_json(tokenizer_json, max_tokens)?;
        let model = match format {
            WeightsFormat::SafeTensors => Bert::load(config, &SafeTensors::parse(weights)?, device).await?,
            WeightsFormat::Onnx => Bert::load(config, &bert_weights_from_onnx(&OnnxModel::parse(weights)?)?, device).await?,
        };
        Ok(SentenceEmbedder { model, tokenizer, max_tokens })
    }

    /// Read `config.json`, `tokenizer.json` and `weights` (a file name) from a directory.
    #[cfg(not(target_arch = "wasm32"))]
    pub async fn from_dir(dir: &std::path::Path, weights: &str, device: &Device, max_tokens: Option<usize>) -> Result<SentenceEmbedder> {
        let read =
            |name: &str| std::fs::read(dir.join(name)).map_err(|e| Error::Model(format!("reading {}: {e}", dir.join(name).display())));
        let config = String::from_utf8(read("config.json")?).map_err(|_| Error::Model("config.json is not UTF-8".into()))?;
        let tokenizer = read("tokenizer.json")?;
        let bytes = read(weights)?;
        SentenceEmbedder::from_bytes(&config, &tokenizer, &bytes, WeightsFormat::from_file_name(weights)?, device, max_tokens).await
    }

    pub fn config(&self) -> &BertConfig {
        self.model.config()
    }

    pub fn max_tokens(&self) -> usize {
        self.max_tokens
    }

    pub fn tokenize<S: AsRef<str>>(&self, texts: &[S]) -> Result<Vec<Encoding>> {
        texts.iter().map(|t| self.tokenizer.encode(t.as_ref())).collect()
    }

    /// One L2-normalised embedding per text, in order.
    pub async fn embed<S: AsRef<str>>(&self, texts: &[S]) -> Result<Vec<Vec<f32>>> {
        self.model.embed_batch(&self.tokenize(texts)?).await
    }

    pub async fn embed_encodings(&self, encodings: &[Encoding]) -> Result<Vec<Vec<f32>>> {
        self.model.embed_batch(encodings).await
    }
}
