//! The `EmbeddingModel` class the npm package wraps.

use super::js_error;
use crate::models::embedder::SentenceEmbedder;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// A sentence-embedding model (BERT family: tokenizer + encoder + pooling) in the page.
#[wasm_bindgen]
pub struct EmbeddingModel {
    inner: Rc<SentenceEmbedder>,
    name: String,
    /// JSON: where each file came from on load, bytes from the network, verification.
    load_report: String,
}

impl EmbeddingModel {
    pub(super) fn new(inner: Rc<SentenceEmbedder>, name: String, load_report: String) -> EmbeddingModel {
        EmbeddingModel { inner, name, load_report }
    }
}

#[wasm_bindgen]
impl EmbeddingModel {
    /// Width of each embedding.
    #[wasm_bindgen(getter, js_name = dimensions)]
    pub fn dimensions(&self) -> usize {
        self.inner.config().hidden_size
    }

    /// Token limit inputs are truncated to.
    #[wasm_bindgen(getter, js_name = maxTokens)]
    pub fn max_tokens(&self) -> usize {
        self.inner.max_tokens()
    }

    /// The model's name (from its manifest, else its URL).
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.name.clone()
    }

    /// How the load went: `{files: {path: origin}, networkBytes, verified}`.
    #[wasm_bindgen(getter, js_name = loadReport)]
    pub fn load_report(&self) -> Result<JsValue, JsValue> {
        js_sys::JSON::parse(&self.load_report)
    }

    /// `{hits, misses, entries, capacity}` of the embedding cache.
    #[wasm_bindgen(js_name = cacheStats)]
    pub fn cache_stats(&self) -> Result<JsValue, JsValue> {
        js_sys::JSON::parse(&serde_json::to_string(&self.inner.cache_stats()).map_err(js_error)?)
    }

    /// Sharding, first stage: tokenise `texts` (one padded batch), embed, run layers
    /// `0..end`; the activations as bytes (see `Activations::to_bytes`).
    #[wasm_bindgen(js_name = stageFirst)]
    pub fn stage_first(&self, texts: Vec<String>, end: usize) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        wasm_bindgen_futures::future_to_promise(async move {
            let model = inner.model();
            let x = model.embed_stage(&inner.tokenize(&texts).map_err(js_error)?).await.map_err(js_error)?;
            let x = model.layers_stage(&x, 0..end).await.map_err(js_error)?;
            Ok(js_sys::Uint8Array::from(x.to_bytes().as_slice()).into())
        })
    }

    /// Sharding, a later stage: layers `start..end` over the activations in `bytes`; with
    /// `pool`, the pooled embeddings instead (u32 LE batch and width, then f32 LE values).
    #[wasm_bindgen(js_name = stageNext)]
    pub fn stage_next(&self, bytes: Vec<u8>, start: usize, end: usize, pool: bool) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        wasm_bindgen_futures::future_to_promise(async move {
            let model = inner.model();
            let x = crate::models::bert::Activations::from_bytes(&bytes).map_err(js_error)?;
            let x = model.layers_stage(&x, start..end).await.map_err(js_error)?;
            let out = if pool {
                let vectors = model.pool_stage(&x, inner.pooling());
                let mut out = Vec::with_capacity(8 + 4 * x.batch * x.width);
                out.extend_from_slice(&(x.batch as u32).to_le_bytes());
                out.extend_from_slice(&(x.width as u32).to_le_bytes());
                out.extend(vectors.iter().flatten().flat_map(|v| v.to_le_bytes()));
                out
            } else {
                x.to_bytes()
            };
            Ok(js_sys::Uint8Array::from(out.as_slice()).into())
        })
    }

    /// One L2-normalised Float32Array per input text, in order; texts run as padded batches.
    pub fn embed(&self, texts: Vec<String>) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        wasm_bindgen_futures::future_to_promise(async move {
            let embeddings = inner.embed(&texts).await.map_err(js_error)?;
            let out = js_sys::Array::new();
            for e in &embeddings {
                out.push(&js_sys::Float32Array::from(e.as_slice()));
            }
            Ok(out.into())
        })
    }
}
