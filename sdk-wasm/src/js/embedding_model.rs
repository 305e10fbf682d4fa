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
