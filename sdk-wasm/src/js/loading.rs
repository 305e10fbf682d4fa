//! Loading a sentence-embedding model in the page: config, tokenizer and weights through
//! `model_files`, then the embedder.

use super::model_files::{base_url, options_json, FileRequest, ModelFiles};
use super::part_loading::{check_budget, fetch_part};
use super::weight_cache::{with_cache, Cache};
use crate::core::error::{Error, Result};
use crate::device::Device;
use crate::models::bert::{BertConfig, LinearWeights, Pooling};
use crate::models::embedder::{EmbedderOptions, SentenceEmbedder, WeightsFormat};
use crate::share::{TensorIds, TensorRegistry};
use crate::store::ModelManifest;
use crate::weights::Cid;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::{Arc, Mutex};
use wasm_bindgen::JsValue;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawOptions {
    weights: Option<String>,
    max_tokens: Option<usize>,
    pooling: Option<String>,
    embedding_cache: Option<usize>,
    quantize: Option<String>,
    gateway: Option<String>,
    manifest: Option<serde_json::Value>,
    layers: Option<[usize; 2]>,
    weight_budget: Option<f64>,
}

pub(super) struct LoadOptions {
    weights: String,
    max_tokens: Option<usize>,
    pooling: Pooling,
    embedding_cache: usize,
    linear: LinearWeights,
    gateway: Option<String>,
    manifest: Option<ModelManifest>,
    /// Hold only these layers (a shard stage), fetching only their weights.
    layers: Option<Range<usize>>,
    /// Refuse, before fetching, weights larger than this many bytes.
    weight_budget: Option<u64>,
}

/// Embeddings remembered per model unless the caller says otherwise.
const DEFAULT_EMBEDDING_CACHE: usize = 1024;

impl LoadOptions {
    pub(super) fn from_js(value: &JsValue) -> Result<LoadOptions> {
        let raw: RawOptions = serde_json::from_str(&options_json(value)).map_err(|e| Error::Model(format!("load options: {e}")))?;
        let manifest = raw.manifest.map(|m| ModelManifest::from_json(&m.to_string())).transpose()?;
        Ok(LoadOptions {
            weights: raw.weights.unwrap_or_else(|| "model.safetensors".into()),
            max_tokens: raw.max_tokens,
            pooling: raw.pooling.as_deref().map(Pooling::from_name).transpose()?.unwrap_or_default(),
            embedding_cache: raw.embedding_cache.unwrap_or(DEFAULT_EMBEDDING_CACHE),
            linear: raw.quantize.as_deref().map(LinearWeights::from_name).transpose()?.unwrap_or_default(),
            gateway: raw.gateway.as_deref().map(base_url),
            manifest,
            layers: raw.layers.map(|[start, end]| start..end),
            weight_budget: match raw.weight_budget {
                Some(b) if !(b.is_finite() && b >= 0.0) => return Err(Error::Model(format!("weightBudget {b} is not a byte count"))),
                b => b.map(|b| b as u64),
            },
        })
    }
}

pub(super) struct Loaded {
    pub embedder: SentenceEmbedder,
    pub name: String,
    /// JSON for `EmbeddingModel.loadReport`.
    pub report: String,
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn load_embedder(
    url: &str,
    options: &LoadOptions,
    device: &Device,
    registry: Arc<TensorRegistry>,
    cache: &Cache,
    in_use: &[String],
    on_progress: Option<&js_sys::Function>,
    signal: Option<web_sys::AbortSignal>,
) -> Result<Loaded> {
    let base = base_url(url);
    let request = FileRequest { base: &base, manifest: options.manifest.clone(), gateway: options.gateway.clone(), on_progress, signal };
    let manifest = request.manifest().await?;
    if let Some(layers) = &options.layers {
        return load_part(&request, manifest, layers, options, device, registry, cache, in_use).await;
    }
    if let Some(file) = manifest.as_ref().and_then(|m| m.file(&options.weights).ok()) {
        check_budget(&format!("{base}{}", options.weights), file.size, options.weight_budget)?;
    }
    let paths = ["config.json", "tokenizer.json", options.weights.as_str()];
    let mut loaded = request.fetch(manifest, &paths, cache, in_use).await?;
    let weights_cid = loaded.cids.get(&options.weights).copied();
    let (config, tokenizer) = config_and_tokenizer(&mut loaded, &base)?;
    let weights = loaded.take(&options.weights)?;
    check_budget(&format!("{base}{}", options.weights), weights.len() as u64, options.weight_budget)?;
    let format = WeightsFormat::from_file_name(&options.weights)?;
    // Tensor ids remembered for this verified weight file spare hashing every tensor again.
    let known = match weights_cid {
        Some(cid) => known_tensor_ids(cache, &cid).await,
        None => BTreeMap::new(),
    };
    let known_count = known.len();
    let tensor_ids: TensorIds = Arc::new(Mutex::new(known));
    let embedder_options = embedder_options(options, registry, tensor_ids.clone());
    let start = crate::clock::now_ms();
    let embedder = SentenceEmbedder::from_bytes(&config, &tokenizer, &weights, format, device, &embedder_options)
        .await
        .map_err(|e| Error::Model(format!("loading the model at {base}: {e}")))?;
    let mut report = loaded.report;
    report.build_ms = Some(crate::clock::now_ms() - start);
    report.finite_scan_ms = Some(embedder.model().finite_scan_ms());
    let ids = tensor_ids.lock().map(|ids| ids.clone()).unwrap_or_default();
    report.tensor_ids_remembered = Some(known_count > 0);
    if let (Some(cid), true) = (weights_cid, ids.len() > known_count) {
        remember_tensor_ids(cache, &cid, ids).await;
    }
    Ok(Loaded { embedder, name: loaded.name, report: report.to_json() })
}

fn embedder_options(options: &LoadOptions, registry: Arc<TensorRegistry>, tensor_ids: TensorIds) -> EmbedderOptions {
    EmbedderOptions {
        max_tokens: options.max_tokens,
        pooling: options.pooling,
        cache_entries: options.embedding_cache,
        registry: Some(registry),
        tensor_ids,
        linear: options.linear,
    }
}

/// `config.json` (checked to be JSON) and `tokenizer.json` out of the fetched files.
fn config_and_tokenizer(loaded: &mut ModelFiles, base: &str) -> Result<(String, Vec<u8>)> {
    let config = String::from_utf8(loaded.take("config.json")?).map_err(|_| Error::Model(format!("{base}config.json is not UTF-8")))?;
    if let Err(e) = serde_json::from_str::<serde_json::Value>(&config) {
        return Err(Error::Model(format!("{base}config.json is not valid JSON: {e}")));
    }
    Ok((config, loaded.take("tokenizer.json")?))
}

/// A shard stage: the model's layers `layers` only, their weights fetched tensor by tensor.
#[allow(clippy::too_many_arguments)]
async fn load_part(
    request: &FileRequest<'_>,
    manifest: Option<ModelManifest>,
    layers: &Range<usize>,
    options: &LoadOptions,
    device: &Device,
    registry: Arc<TensorRegistry>,
    cache: &Cache,
    in_use: &[String],
) -> Result<Loaded> {
    let base = request.base;
    let manifest = manifest.ok_or_else(|| {
        Error::Model(format!("loading layers {layers:?} needs the model's manifest with its tensors: {base}manifest.json has none"))
    })?;
    if WeightsFormat::from_file_name(&options.weights)? != WeightsFormat::SafeTensors {
        return Err(Error::Model(format!("loading layers {layers:?} reads tensors of a .safetensors file, not {}", options.weights)));
    }
    let mut loaded = request.fetch(Some(manifest.clone()), &["config.json", "tokenizer.json"], cache, in_use).await?;
    let (config, tokenizer) = config_and_tokenizer(&mut loaded, base)?;
    let config = BertConfig::from_json(&config)?;
    let part = fetch_part(request, &manifest, &options.weights, &config, layers, options.weight_budget, cache, in_use).await?;
    let embedder_options = embedder_options(options, registry, Arc::new(Mutex::new(part.tensor_ids)));
    let start = crate::clock::now_ms();
    let embedder = SentenceEmbedder::from_source(config, &tokenizer, &part.weights, layers.clone(), device, &embedder_options)
        .await
        .map_err(|e| Error::Model(format!("loading layers {layers:?} of the model at {base}: {e}")))?;
    let mut report = loaded.report;
    report.network_bytes += part.report.network_bytes;
    report.part = Some(part.report);
    report.build_ms = Some(crate::clock::now_ms() - start);
    report.finite_scan_ms = Some(embedder.model().finite_scan_ms());
    Ok(Loaded { embedder, name: loaded.name, report: report.to_json() })
}

async fn known_tensor_ids(cache: &Cache, cid: &Cid) -> BTreeMap<String, Cid> {
    let ids = with_cache!(cache, c => c.tensor_ids(cid).await);
    ids.unwrap_or_default()
}

/// Best effort: failing to remember only costs the next load some hashing.
async fn remember_tensor_ids(cache: &Cache, cid: &Cid, ids: BTreeMap<String, Cid>) {
    let _ = with_cache!(cache, c => c.remember_tensor_ids(cid, ids).await);
}
