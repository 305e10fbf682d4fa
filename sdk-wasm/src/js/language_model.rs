//! The `LanguageModel` and `TextGeneration` classes the npm package wraps. Generation runs one
//! token per `next()` call so the JS side can stream, yield to the page and honour an
//! AbortSignal between tokens.

use super::js_error;
use super::single_file::FileKind;
use crate::core::OptionStyle;
use crate::device::Device;
use crate::models::generation::{activations_option, kv_cache_dtype, ChatMessage, GenerateResult, Generation, Generator, Prompt, Sampling};
use crate::models::language_model::LanguageModel;
use futures_util::future::LocalBoxFuture;
use serde::Deserialize;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

pub(super) const FILE_KIND: FileKind<'static> = FileKind::One { extension: ".gguf", preferred: None };

/// The model from its GGUF bytes, on `device`.
pub(super) fn build(files: Vec<Vec<u8>>, device: Device) -> LocalBoxFuture<'static, crate::error::Result<(LanguageModel, Option<f64>)>> {
    Box::pin(async move {
        let model = LanguageModel::from_gguf_bytes(&super::single_file::only(files)?, &device)?;
        let scan = model.model().finite_scan_ms();
        Ok((model, Some(scan)))
    })
}

/// A text-generation model (LLaMA family, from a GGUF file) in the page.
#[wasm_bindgen(js_name = LanguageModel)]
pub struct JsLanguageModel {
    inner: Rc<LanguageModel>,
    name: String,
    load_report: String,
}

impl JsLanguageModel {
    pub(super) fn new(inner: Rc<LanguageModel>, name: String, load_report: String) -> JsLanguageModel {
        JsLanguageModel { inner, name, load_report }
    }
}

/// `generate` options as the npm package passes them (callbacks and signal stay in JS).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct GenerateOptions {
    max_tokens: Option<usize>,
    #[serde(default, deserialize_with = "js_number")]
    temperature: Option<f32>,
    top_k: Option<usize>,
    #[serde(default, deserialize_with = "js_number")]
    top_p: Option<f32>,
    #[serde(default, deserialize_with = "js_number")]
    repetition_penalty: Option<f32>,
    seed: Option<u64>,
    stop_at_eos: Option<bool>,
    /// Apply the chat template to a string prompt (a message list always is).
    chat: Option<bool>,
    /// "f32" (default), "q8_0", "q4_1" or "q2" (the quantized ones on the CPU device).
    kv_cache: Option<String>,
    /// "f32" (default) or "int8" (CPU device: 8-bit activations, integer dot products).
    activations: Option<String>,
}

/// A JS number, where npm/index.js sends NaN and ±Infinity as the strings "NaN",
/// "Infinity" and "-Infinity" (JSON has no such numbers and JSON.stringify would make them
/// null, i.e. "not given"), so `Sampling::check` sees and refuses them like the CLI's.
fn js_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<f32>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Number {
        Finite(f32),
        NonFinite(String),
    }
    match Option::<Number>::deserialize(d)? {
        None => Ok(None),
        Some(Number::Finite(v)) => Ok(Some(v)),
        Some(Number::NonFinite(s)) => match s.as_str() {
            "NaN" => Ok(Some(f32::NAN)),
            "Infinity" => Ok(Some(f32::INFINITY)),
            "-Infinity" => Ok(Some(f32::NEG_INFINITY)),
            other => Err(serde::de::Error::custom(format!("expected a number, got {other:?}"))),
        },
    }
}

/// Default output bound when the caller gives none.
const DEFAULT_MAX_TOKENS: usize = 128;

impl GenerateOptions {
    fn generation(&self, context: usize) -> Result<Generation, String> {
        let d = Sampling::default();
        let sampling = Sampling {
            temperature: self.temperature.unwrap_or(d.temperature),
            top_k: self.top_k.unwrap_or(d.top_k),
            top_p: self.top_p.unwrap_or(d.top_p),
            repetition_penalty: self.repetition_penalty.unwrap_or(d.repetition_penalty),
            seed: self.seed.unwrap_or(d.seed),
        };
        sampling.check(OptionStyle::Js).map_err(|e| e.to_string())?;
        let kv_cache = kv_cache_dtype(self.kv_cache.as_deref().unwrap_or("f32"), OptionStyle::Js).map_err(|e| e.to_string())?;
        let activations = activations_option(self.activations.as_deref().unwrap_or("f32"), OptionStyle::Js).map_err(|e| e.to_string())?;
        Ok(Generation {
            max_tokens: self.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
            sampling,
            context,
            stop_at_eos: self.stop_at_eos.unwrap_or(true),
            kv_cache,
            activations,
        })
    }
}

#[wasm_bindgen(js_class = LanguageModel)]
impl JsLanguageModel {
    /// The model's name (from its manifest, else its URL).
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.name.clone()
    }

    /// Positions the model was trained for (prompt + output).
    #[wasm_bindgen(getter, js_name = contextLength)]
    pub fn context_length(&self) -> usize {
        self.inner.model().context()
    }

    /// Whether the file carries a chat template this SDK can apply.
    #[wasm_bindgen(getter, js_name = hasChatTemplate)]
    pub fn has_chat_template(&self) -> bool {
        self.inner.chat(&[ChatMessage { role: "user".into(), content: String::new() }]).is_ok()
    }

    /// Bytes of weights held (block formats at their packed size).
    #[wasm_bindgen(getter, js_name = weightBytes)]
    pub fn weight_bytes(&self) -> f64 {
        self.inner.model().weight_bytes() as f64
    }

    #[wasm_bindgen(getter, js_name = loadReport)]
    pub fn load_report(&self) -> Result<JsValue, JsValue> {
        js_sys::JSON::parse(&self.load_report)
    }

    /// Token ids of `text` (no template applied).
    pub fn tokenize(&self, text: String) -> Result<Vec<u32>, JsValue> {
        self.inner.tokenizer().encode(&text).map_err(js_error)
    }

    /// Start generating from `prompt` (a string, or JSON of `[{role, content}]` when
    /// `messages` is true); resolves to a `TextGeneration` once the prompt is processed.
    pub fn start(&self, prompt: String, messages: bool, options_json: String) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        wasm_bindgen_futures::future_to_promise(async move {
            let options: GenerateOptions = serde_json::from_str(&options_json).map_err(|e| js_error(format!("generate options: {e}")))?;
            let opts = options.generation(inner.model().context()).map_err(js_error)?;
            let prompt = if messages {
                let turns: Vec<ChatMessage> = serde_json::from_str(&prompt)
                    .map_err(|e| js_error(format!("messages must be [{{role, content}}] with string fields: {e}")))?;
                inner.chat(&turns).map_err(js_error)?
            } else if options.chat.unwrap_or(false) {
                inner.chat(&[ChatMessage { role: "user".into(), content: prompt }]).map_err(js_error)?
            } else {
                Prompt::raw(prompt)
            };
            let generator = Generator::start(inner.model(), inner.tokenizer(), &prompt, &opts).await.map_err(js_error)?;
            Ok(TextGeneration { model: inner, state: Rc::new(RefCell::new(Some(generator))) }.into())
        })
    }
}

/// One generation in progress.
#[wasm_bindgen]
pub struct TextGeneration {
    model: Rc<LanguageModel>,
    /// None while a step runs (so a second concurrent `next()` is refused, not interleaved).
    state: Rc<RefCell<Option<Generator>>>,
}

#[wasm_bindgen]
impl TextGeneration {
    /// The next piece of text ("" while a character is incomplete), or undefined at the end.
    pub fn next(&self) -> js_sys::Promise {
        let (model, state) = (Rc::clone(&self.model), Rc::clone(&self.state));
        wasm_bindgen_futures::future_to_promise(async move {
            let mut generator =
                state.borrow_mut().take().ok_or_else(|| js_error("next() called while the previous next() is still running"))?;
            let step = generator.step(model.model(), model.tokenizer()).await;
            *state.borrow_mut() = Some(generator);
            Ok(step.map_err(js_error)?.map(JsValue::from).unwrap_or(JsValue::UNDEFINED))
        })
    }

    /// Stop; the next `next()` resolves to undefined.
    pub fn cancel(&self) {
        if let Some(g) = self.state.borrow_mut().as_mut() {
            g.cancel();
        }
    }

    /// The result so far (`GenerateResult`).
    pub fn result(&self) -> Result<JsValue, JsValue> {
        let state = self.state.borrow();
        let g = state.as_ref().ok_or_else(|| js_error("result() called while next() is running"))?;
        let value = GenerateResult::from(&g.result());
        js_sys::JSON::parse(&serde_json::to_string(&value).map_err(js_error)?)
    }
}
