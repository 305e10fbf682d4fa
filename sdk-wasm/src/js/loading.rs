//! Loading a model in the page: its manifest (`<url>/manifest.json`, or given inline), the
//! files by CID through the weight cache, then the embedder. A URL without a manifest still
//! loads, but unverified and uncached, and says so in the model's load report.

use super::runtime::{with_cache, Cache};
use crate::device::Device;
use crate::error::{Error, Result};
use crate::models::bert::Pooling;
use crate::models::embedder::{EmbedderOptions, SentenceEmbedder, WeightsFormat};
use crate::share::{TensorIds, TensorRegistry};
use crate::store::{fetch_all, FileOrigin, HttpFetcher, LoadProgress, ModelManifest};
use crate::weights::Cid;
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use wasm_bindgen::JsValue;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawOptions {
    weights: Option<String>,
    max_tokens: Option<usize>,
    pooling: Option<String>,
    embedding_cache: Option<usize>,
    gateway: Option<String>,
    manifest: Option<serde_json::Value>,
}

pub(super) struct LoadOptions {
    weights: String,
    max_tokens: Option<usize>,
    pooling: Pooling,
    embedding_cache: usize,
    gateway: Option<String>,
    manifest: Option<ModelManifest>,
}

/// Embeddings remembered per model unless the caller says otherwise.
const DEFAULT_EMBEDDING_CACHE: usize = 1024;

impl LoadOptions {
    pub(super) fn from_js(value: &JsValue) -> Result<LoadOptions> {
        let text = if value.is_undefined() || value.is_null() {
            "{}".to_string()
        } else {
            js_sys::JSON::stringify(value).ok().and_then(|s| s.as_string()).unwrap_or_else(|| "{}".into())
        };
        let raw: RawOptions = serde_json::from_str(&text).map_err(|e| Error::Model(format!("load options: {e}")))?;
        let manifest = raw.manifest.map(|m| ModelManifest::from_json(&m.to_string())).transpose()?;
        Ok(LoadOptions {
            weights: raw.weights.unwrap_or_else(|| "model.safetensors".into()),
            max_tokens: raw.max_tokens,
            pooling: raw.pooling.as_deref().map(Pooling::from_name).transpose()?.unwrap_or_default(),
            embedding_cache: raw.embedding_cache.unwrap_or(DEFAULT_EMBEDDING_CACHE),
            gateway: raw.gateway.map(|g| if g.ends_with('/') { g } else { format!("{g}/") }),
            manifest,
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
    let base = if url.ends_with('/') { url.to_string() } else { format!("{url}/") };
    let paths = ["config.json", "tokenizer.json", options.weights.as_str()];
    let mut report_progress = |p: LoadProgress| {
        if let (Some(f), Ok(text)) = (on_progress, serde_json::to_string(&p)) {
            if let Ok(value) = js_sys::JSON::parse(&text) {
                // A throwing callback must not break the load.
                let _ = f.call1(&JsValue::NULL, &value);
            }
        }
    };
    let manifest = match &options.manifest {
        Some(m) => Some(m.clone()),
        None => fetch_manifest(&base, signal.as_ref()).await?,
    };
    let (mut files, name, mut report, weights_cid) = match manifest {
        Some(m) => {
            for p in paths {
                if m.file(p).is_err() {
                    let listed: Vec<&str> = m.files.iter().map(|f| f.path.as_str()).collect();
                    return Err(Error::Model(format!("model {} has no file {p:?} (its manifest lists {})", m.name, listed.join(", "))));
                }
            }
            let fetcher = HttpFetcher { base: base.clone(), gateway: options.gateway.clone(), signal };
            let loaded = with_cache!(cache, c => c.load(&m, &paths, &fetcher, in_use, &mut report_progress).await?);
            let report = json!({
                "files": loaded.origins, "networkBytes": loaded.network_bytes, "verified": true, "version": m.version,
                "timings": loaded.timings,
            });
            let weights_cid = m.file(&options.weights)?.cid;
            (loaded.files, m.name, report, Some(weights_cid))
        }
        None => {
            let mut files = BTreeMap::new();
            let mut network = 0;
            for p in paths {
                let bytes = fetch_all(&format!("{base}{p}"), signal.as_ref()).await?;
                network += bytes.len() as u64;
                let size = bytes.len() as u64;
                report_progress(LoadProgress { file: p.to_string(), loaded: size, total: size, origin: FileOrigin::Uncached });
                files.insert(p.to_string(), bytes);
            }
            let origins: BTreeMap<&str, &str> = paths.iter().map(|p| (*p, "unverified")).collect();
            (files, base.clone(), json!({ "files": origins, "networkBytes": network, "verified": false }), None)
        }
    };
    let mut take = |p: &str| files.remove(p).ok_or_else(|| Error::Model(format!("{p} was not loaded")));
    let config = String::from_utf8(take("config.json")?).map_err(|_| Error::Model(format!("{base}config.json is not UTF-8")))?;
    if let Err(e) = serde_json::from_str::<serde_json::Value>(&config) {
        return Err(Error::Model(format!("{base}config.json is not valid JSON: {e}")));
    }
    let (tokenizer, weights) = (take("tokenizer.json")?, take(&options.weights)?);
    let format = WeightsFormat::from_file_name(&options.weights)?;
    // Tensor ids remembered for this verified weight file spare hashing every tensor again.
    let known = match weights_cid {
        Some(cid) => known_tensor_ids(cache, &cid).await,
        None => BTreeMap::new(),
    };
    let known_count = known.len();
    let tensor_ids: TensorIds = Arc::new(Mutex::new(known));
    let embedder_options = EmbedderOptions {
        max_tokens: options.max_tokens,
        pooling: options.pooling,
        cache_entries: options.embedding_cache,
        registry: Some(registry),
        tensor_ids: tensor_ids.clone(),
    };
    let start = crate::clock::now_ms();
    let embedder = SentenceEmbedder::from_bytes(&config, &tokenizer, &weights, format, device, &embedder_options)
        .await
        .map_err(|e| Error::Model(format!("loading the model at {base}: {e}")))?;
    report["buildMs"] = (crate::clock::now_ms() - start).into();
    let ids = tensor_ids.lock().map(|ids| ids.clone()).unwrap_or_default();
    report["tensorIdsRemembered"] = (known_count > 0).into();
    if let (Some(cid), true) = (weights_cid, ids.len() > known_count) {
        remember_tensor_ids(cache, &cid, ids).await;
    }
    Ok(Loaded { embedder, name, report: report.to_string() })
}

async fn known_tensor_ids(cache: &Cache, cid: &Cid) -> BTreeMap<String, Cid> {
    let ids = with_cache!(cache, c => c.tensor_ids(cid).await);
    ids.unwrap_or_default()
}

/// Best effort: failing to remember only costs the next load some hashing.
async fn remember_tensor_ids(cache: &Cache, cid: &Cid, ids: BTreeMap<String, Cid>) {
    let _ = with_cache!(cache, c => c.remember_tensor_ids(cid, ids).await);
}

/// `<base>manifest.json`, or None when the server has none (HTTP 404).
async fn fetch_manifest(base: &str, signal: Option<&web_sys::AbortSignal>) -> Result<Option<ModelManifest>> {
    match fetch_all(&format!("{base}manifest.json"), signal).await {
        Ok(bytes) => {
            let text = String::from_utf8(bytes).map_err(|_| Error::Model(format!("{base}manifest.json is not UTF-8")))?;
            ModelManifest::from_json(&text).map(Some)
        }
        Err(Error::Fetch { detail, .. }) if detail.starts_with("HTTP 404") => Ok(None),
        Err(e) => Err(e),
    }
}
