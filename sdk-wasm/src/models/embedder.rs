//! A sentence embedder: tokenizer + BERT encoder + mean pooling, built from a model's files.
//! The one entry point the JS API, the native host and the tests share.

use crate::core::error::{Error, Result};
use crate::device::Device;
use crate::models::bert::{Bert, BertConfig, LinearWeights, Pooling};
use crate::models::bert_onnx::bert_weights_from_onnx;
use crate::share::{hash_f32_tensors_ahead, EmbeddingCache, EmbeddingCacheStats, TensorIds, TensorRegistry};
use crate::text::{Encoding, TextTokenizer};
use crate::weights::{OnnxModel, SafeTensors, WeightSource};
use std::ops::Range;
use std::sync::{Arc, Mutex};

/// How to build an embedder beyond its files.
#[derive(Clone, Default)]
pub struct EmbedderOptions {
    /// Truncate inputs here (default: the tokenizer file's own limit, else the model's).
    pub max_tokens: Option<usize>,
    pub pooling: Pooling,
    /// Embeddings remembered by input text (0: none).
    pub cache_entries: usize,
    /// Share weights with the other models loaded through this registry.
    pub registry: Option<Arc<TensorRegistry>>,
    /// Known content ids of the weight file's tensors (e.g. remembered by the weight cache);
    /// the load adds those it computes.
    pub tensor_ids: TensorIds,
    /// int8 linear layers (an int8 file's own weights always run int8 on the CPU).
    pub linear: LinearWeights,
}

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
    pooling: Pooling,
    cache: Mutex<EmbeddingCache>,
}

impl SentenceEmbedder {
    /// Build from the bytes of `config.json`, `tokenizer.json` and the weight file.
    pub async fn from_bytes(
        config_json: &str,
        tokenizer_json: &[u8],
        weights: &[u8],
        format: WeightsFormat,
        device: &Device,
        options: &EmbedderOptions,
    ) -> Result<SentenceEmbedder> {
        let config = BertConfig::from_json(config_json)?;
        let all = 0..config.num_hidden_layers;
        match format {
            WeightsFormat::SafeTensors => {
                let source = SafeTensors::parse(weights)?;
                hash_f32_tensors_ahead(&source, &options.tensor_ids).await;
                SentenceEmbedder::from_source(config, tokenizer_json, &source, all, device, options).await
            }
            WeightsFormat::Onnx => {
                let named = bert_weights_from_onnx(&OnnxModel::parse(weights)?)?;
                SentenceEmbedder::from_source(config, tokenizer_json, &named, all, device, options).await
            }
        }
    }

    /// Build over weights already opened, holding only `layers` (all of them, or a shard
    /// stage's part: see [`Bert::load_part`]).
    pub async fn from_source(
        config: BertConfig,
        tokenizer_json: &[u8],
        weights: &dyn WeightSource,
        layers: Range<usize>,
        device: &Device,
        options: &EmbedderOptions,
    ) -> Result<SentenceEmbedder> {
        let limit = config.max_position_embeddings;
        let wanted = options.max_tokens.or_else(|| TextTokenizer::configured_max_length(tokenizer_json)).unwrap_or(limit);
        if wanted == 0 {
            return Err(Error::Model("maxTokens must be at least 1".into()));
        }
        let max_tokens = wanted.min(limit);
        let tokenizer = TextTokenizer::from_json(tokenizer_json, max_tokens)?;
        let registry = options.registry.clone().unwrap_or_default();
        let model = Bert::load_part(config, weights, device, &registry, options.tensor_ids.clone(), options.linear, layers).await?;
        let cache = Mutex::new(EmbeddingCache::new(options.cache_entries));
        Ok(SentenceEmbedder { model, tokenizer, max_tokens, pooling: options.pooling, cache })
    }

    /// Read `config.json`, `tokenizer.json` and `weights` (a file name) from a directory, each
    /// verified against the directory's `manifest.json` when it has one.
    #[cfg(not(target_arch = "wasm32"))]
    pub async fn from_dir(dir: &std::path::Path, weights: &str, device: &Device, options: &EmbedderOptions) -> Result<SentenceEmbedder> {
        let read = |name: &str| crate::store::ModelManifest::read_verified(dir, name);
        let config = String::from_utf8(read("config.json")?).map_err(|_| Error::Model("config.json is not UTF-8".into()))?;
        let tokenizer = read("tokenizer.json")?;
        let bytes = read(weights)?;
        SentenceEmbedder::from_bytes(&config, &tokenizer, &bytes, WeightsFormat::from_file_name(weights)?, device, options).await
    }

    /// The encoder, e.g. to run it in stages (sharding).
    pub fn model(&self) -> &Bert {
        &self.model
    }

    pub fn pooling(&self) -> Pooling {
        self.pooling
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

    /// One L2-normalised embedding per text, in order. Texts seen before (and still in the
    /// embedding cache) are not run again.
    pub async fn embed<S: AsRef<str>>(&self, texts: &[S]) -> Result<Vec<Vec<f32>>> {
        let cached: Vec<Option<Vec<f32>>> = {
            let mut cache = self.cache();
            texts.iter().map(|t| cache.get(t.as_ref())).collect()
        };
        let missing: Vec<&str> = texts.iter().zip(&cached).filter(|(_, c)| c.is_none()).map(|(t, _)| t.as_ref()).collect();
        let mut computed = self.model.embed_batch_pooled(&self.tokenize(&missing)?, self.pooling).await?.into_iter();
        let mut cache = self.cache();
        let mut out = Vec::with_capacity(texts.len());
        for (text, hit) in texts.iter().zip(cached) {
            match hit {
                Some(e) => out.push(e),
                None => {
                    let e = computed.next().ok_or_else(|| Error::Model("fewer embeddings than texts".into()))?;
                    cache.put(text.as_ref(), &e);
                    out.push(e);
                }
            }
        }
        Ok(out)
    }

    pub async fn embed_encodings(&self, encodings: &[Encoding]) -> Result<Vec<Vec<f32>>> {
        self.model.embed_batch_pooled(encodings, self.pooling).await
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, EmbeddingCache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn cache_stats(&self) -> EmbeddingCacheStats {
        self.cache().stats()
    }

    /// (bytes, of which shared with other models) of this model's weights.
    pub fn weight_bytes(&self) -> (u64, u64) {
        self.model.weight_bytes()
    }
}
