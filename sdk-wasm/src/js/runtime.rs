//! `Runtime`: what an `Accelerator` owns on the Rust side — its device, the shared-tensor
//! registry, the weight cache (IndexedDB), and the models it has loaded (for memory reports
//! and so that eviction never removes a model in use).

use super::embedding_model::EmbeddingModel;
use super::image_model::ImageModel;
use super::language_model::JsLanguageModel;
use super::loading::{load_embedder, LoadOptions};
use super::single_file::{load_single_file, Build, FileKind, Request, SingleFileOptions};
use super::speech_recognizer::SpeechRecognizer;
use super::voice_detector::VoiceDetector;
use super::weight_cache::{with_cache, Cache};
use super::{device_named, js_error};
use crate::device::Device;
use crate::models::embedder::SentenceEmbedder;
use crate::models::language_model::LanguageModel;
use crate::models::vad::SileroVad;
use crate::models::vit::VitFocus;
use crate::models::whisper::Whisper;
use crate::share::TensorRegistry;
use crate::store::{IdbStore, NoStore, WeightCache};
use serde_json::json;
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use wasm_bindgen::prelude::*;

/// What the memory report needs of any loaded model.
trait WeightHolder {
    /// (bytes held, of which shared with other models).
    fn weight_bytes(&self) -> (u64, u64);
}

impl WeightHolder for SentenceEmbedder {
    fn weight_bytes(&self) -> (u64, u64) {
        SentenceEmbedder::weight_bytes(self)
    }
}

impl WeightHolder for LanguageModel {
    fn weight_bytes(&self) -> (u64, u64) {
        (self.model().weight_bytes(), 0)
    }
}

impl WeightHolder for SileroVad {
    fn weight_bytes(&self) -> (u64, u64) {
        (SileroVad::weight_bytes(self), 0)
    }
}

impl WeightHolder for Whisper {
    fn weight_bytes(&self) -> (u64, u64) {
        (Whisper::weight_bytes(self), 0)
    }
}

impl WeightHolder for VitFocus {
    fn weight_bytes(&self) -> (u64, u64) {
        (VitFocus::weight_bytes(self), 0)
    }
}

struct LiveModel {
    name: String,
    model: Weak<dyn WeightHolder>,
}

impl LiveModel {
    fn new<M: WeightHolder + 'static>(name: &str, model: &Rc<M>) -> LiveModel {
        let weak: Weak<dyn WeightHolder> = Rc::downgrade(model) as Weak<dyn WeightHolder>;
        LiveModel { name: name.to_string(), model: weak }
    }
}

thread_local! {
    /// Every model alive in this page or worker, whichever Accelerator loaded it: eviction
    /// must not remove the files of a model in use.
    static PAGE_MODELS: RefCell<Vec<LiveModel>> = const { RefCell::new(Vec::new()) };
}

#[wasm_bindgen]
pub struct Runtime {
    device: Device,
    registry: Arc<TensorRegistry>,
    cache: Rc<Cache>,
    models: Rc<RefCell<Vec<LiveModel>>>,
}

fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, JsValue> {
    let text = serde_json::to_string(value).map_err(js_error)?;
    js_sys::JSON::parse(&text)
}

#[wasm_bindgen]
impl Runtime {
    /// Open `device` ("cpu" | "webgpu") and the IndexedDB weight cache `cache_db` (None: no
    /// cache), bounded by `cache_max_bytes` below the browser's quota.
    pub async fn create(device: String, cache_db: Option<String>, cache_max_bytes: Option<f64>) -> Result<Runtime, JsValue> {
        let device = device_named(&device).await?;
        let max = cache_max_bytes.filter(|b| b.is_finite() && *b >= 0.0).map(|b| b as u64);
        let cache = match cache_db {
            None => Cache::Off(WeightCache::new(NoStore, None), "caching was turned off".into()),
            Some(name) => match IdbStore::open(&name).await {
                Ok(store) => Cache::IndexedDb(WeightCache::new(store, max)),
                Err(e) => Cache::Off(WeightCache::new(NoStore, None), e.to_string()),
            },
        };
        Ok(Runtime { device, registry: TensorRegistry::new(), cache: Rc::new(cache), models: Rc::default() })
    }

    /// Why models are not cached, or undefined when they are.
    #[wasm_bindgen(getter, js_name = cacheDisabledReason)]
    pub fn cache_disabled_reason(&self) -> Option<String> {
        match &*self.cache {
            Cache::Off(_, why) => Some(why.clone()),
            Cache::IndexedDb(_) => None,
        }
    }

    /// Load a sentence-embedding model from `url` (see `LoadOptions` for `options`), calling
    /// `on_progress({file, loaded, total, origin})` as bytes arrive or are read from the cache.
    #[wasm_bindgen(js_name = loadEmbedding)]
    pub fn load_embedding(
        &self,
        url: String,
        options: JsValue,
        on_progress: Option<js_sys::Function>,
        signal: Option<web_sys::AbortSignal>,
    ) -> js_sys::Promise {
        let (device, registry, cache, models) = (self.device.clone(), self.registry.clone(), self.cache.clone(), self.models.clone());
        wasm_bindgen_futures::future_to_promise(async move {
            let options = LoadOptions::from_js(&options).map_err(js_error)?;
            let in_use: Vec<String> = PAGE_MODELS.with(live).into_iter().map(|(name, _)| name).collect();
            let loaded =
                load_embedder(&url, &options, &device, registry, &cache, &in_use, on_progress.as_ref(), signal).await.map_err(js_error)?;
            let model = Rc::new(loaded.embedder);
            track(&models, &loaded.name, &model);
            Ok(EmbeddingModel::new(model, loaded.name, loaded.report).into())
        })
    }

    /// Load a text-generation model (a GGUF file; see `SingleFileOptions`) from `url`.
    #[wasm_bindgen(js_name = loadLanguage)]
    pub fn load_language(
        &self,
        url: String,
        options: JsValue,
        on_progress: Option<js_sys::Function>,
        signal: Option<web_sys::AbortSignal>,
    ) -> js_sys::Promise {
        let wrap = |m, name, report| JsLanguageModel::new(m, name, report).into();
        self.load_file(url, options, on_progress, signal, super::language_model::FILE_KIND, super::language_model::build, wrap)
    }

    /// Load an image model (one ONNX file; see `SingleFileOptions`) from `url`.
    #[wasm_bindgen(js_name = loadImage)]
    pub fn load_image(
        &self,
        url: String,
        options: JsValue,
        on_progress: Option<js_sys::Function>,
        signal: Option<web_sys::AbortSignal>,
    ) -> js_sys::Promise {
        let wrap = |m, name, report| ImageModel::new(m, name, report).into();
        self.load_file(url, options, on_progress, signal, super::image_model::FILE_KIND, super::image_model::build, wrap)
    }

    /// Load a voice activity detector (Silero VAD's ONNX; see `SingleFileOptions`) from `url`.
    #[wasm_bindgen(js_name = loadVoiceDetector)]
    pub fn load_voice_detector(
        &self,
        url: String,
        options: JsValue,
        on_progress: Option<js_sys::Function>,
        signal: Option<web_sys::AbortSignal>,
    ) -> js_sys::Promise {
        let wrap = |m, name, report| VoiceDetector::new(m, name, report).into();
        self.load_file(url, options, on_progress, signal, super::voice_detector::FILE_KIND, super::voice_detector::build, wrap)
    }

    /// Load a speech recognizer (Whisper as CTranslate2 exports it: model.bin, config.json,
    /// tokenizer.json; see `SingleFileOptions`) from `url`.
    #[wasm_bindgen(js_name = loadSpeechRecognizer)]
    pub fn load_speech_recognizer(
        &self,
        url: String,
        options: JsValue,
        on_progress: Option<js_sys::Function>,
        signal: Option<web_sys::AbortSignal>,
    ) -> js_sys::Promise {
        let wrap = |m, name, report| SpeechRecognizer::new(m, name, report).into();
        self.load_file(url, options, on_progress, signal, super::speech_recognizer::FILE_KIND, super::speech_recognizer::build, wrap)
    }

    /// Shader precompilation: compile every GPU pipeline now, so no later inference waits for
    /// a shader compiler. Resolves to the number of pipelines the device holds (0 off the GPU).
    #[wasm_bindgen(js_name = precompileShaders)]
    pub fn precompile_shaders(&self) -> js_sys::Promise {
        let device = self.device.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            let pipelines = device.precompile_shaders().await.map_err(js_error)?;
            Ok(JsValue::from_f64(pipelines as f64))
        })
    }

    /// Weight memory: bytes per device (each shared tensor once), per model, and the GPU
    /// allocator's own figures.
    pub fn memory(&self) -> Result<JsValue, JsValue> {
        let usage = self.registry.usage();
        let models: Vec<_> = live(&self.models)
            .into_iter()
            .map(|(name, m)| {
                let (bytes, shared) = m.weight_bytes();
                json!({ "name": name, "bytes": bytes, "sharedBytes": shared })
            })
            .collect();
        let gpu = match &self.device {
            Device::Gpu(ctx) => {
                let s = ctx.pool_stats();
                json!({ "allocatedBytes": s.allocated_bytes, "inUseBytes": s.in_use_bytes, "allocations": s.allocations, "reuses": s.reuses })
            }
            _ => serde_json::Value::Null,
        };
        to_js(&json!({
            "devices": usage.by_device,
            "totalBytes": usage.by_device.values().sum::<u64>(),
            "sharedBytes": usage.shared_bytes,
            "tensors": usage.tensors,
            "models": models,
            "gpuPool": gpu,
        }))
    }

    /// Give idle GPU buffers back to the browser.
    pub fn trim(&self) {
        if let Device::Gpu(ctx) = &self.device {
            ctx.trim();
        }
    }

    #[wasm_bindgen(js_name = cacheList)]
    pub async fn cache_list(&self) -> Result<JsValue, JsValue> {
        let models = with_cache!(&*self.cache, c => c.list().await).map_err(js_error)?;
        let rows: Vec<_> = models
            .iter()
            .map(|m| {
                json!({
                    "name": m.name, "version": m.version, "bytes": m.bytes(), "lastUsed": m.last_used_ms, "storedAt": m.stored_at_ms,
                    "files": m.files.iter().map(|(path, cid, size)| json!({ "path": path, "cid": cid.to_string(), "size": size })).collect::<Vec<_>>(),
                })
            })
            .collect();
        to_js(&rows)
    }

    #[wasm_bindgen(js_name = cacheDelete)]
    pub async fn cache_delete(&self, name: String) -> Result<bool, JsValue> {
        with_cache!(&*self.cache, c => c.delete(&name).await).map_err(js_error)
    }

    #[wasm_bindgen(js_name = cacheClear)]
    pub async fn cache_clear(&self) -> Result<(), JsValue> {
        with_cache!(&*self.cache, c => c.clear().await).map_err(js_error)
    }

    #[wasm_bindgen(js_name = cacheUsage)]
    pub async fn cache_usage(&self) -> Result<JsValue, JsValue> {
        let usage = with_cache!(&*self.cache, c => c.usage().await).map_err(js_error)?;
        to_js(&usage)
    }

    #[wasm_bindgen(js_name = cachePersist)]
    pub async fn cache_persist(&self) -> Result<bool, JsValue> {
        with_cache!(&*self.cache, c => c.persist().await).map_err(js_error)
    }
}

/// Remember a loaded model in its Accelerator and in the page (for memory and eviction).
impl Runtime {
    /// A model from one file: fetched and verified through the cache, built, tracked, wrapped.
    #[allow(clippy::too_many_arguments)]
    fn load_file<M: WeightHolder + 'static>(
        &self,
        url: String,
        options: JsValue,
        on_progress: Option<js_sys::Function>,
        signal: Option<web_sys::AbortSignal>,
        kind: FileKind<'static>,
        build: Build<M>,
        wrap: fn(Rc<M>, String, String) -> JsValue,
    ) -> js_sys::Promise {
        let (device, cache, models) = (self.device.clone(), self.cache.clone(), self.models.clone());
        wasm_bindgen_futures::future_to_promise(async move {
            let options = SingleFileOptions::from_js(&options).map_err(js_error)?;
            let in_use: Vec<String> = PAGE_MODELS.with(live).into_iter().map(|(name, _)| name).collect();
            let request = Request { device: &device, cache: &cache, in_use: &in_use, on_progress: on_progress.as_ref(), signal };
            let loaded = load_single_file(&url, &options, kind, request, build).await.map_err(js_error)?;
            let model = Rc::new(loaded.model);
            track(&models, &loaded.name, &model);
            Ok(wrap(model, loaded.name, loaded.report))
        })
    }
}

fn track<M: WeightHolder + 'static>(models: &RefCell<Vec<LiveModel>>, name: &str, model: &Rc<M>) {
    models.borrow_mut().push(LiveModel::new(name, model));
    PAGE_MODELS.with(|m| m.borrow_mut().push(LiveModel::new(name, model)));
}

/// The models still alive (JS may have freed some), pruning the dead.
fn live(models: &RefCell<Vec<LiveModel>>) -> Vec<(String, Rc<dyn WeightHolder>)> {
    let mut models = models.borrow_mut();
    models.retain(|m| m.model.strong_count() > 0);
    models.iter().filter_map(|m| m.model.upgrade().map(|e| (m.name.clone(), e))).collect()
}
