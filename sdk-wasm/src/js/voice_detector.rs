//! The `VoiceDetector` class the npm package wraps: mono samples at any rate in (the package
//! decodes Blobs and AudioBuffers with the browser's own audio decoder), speech probabilities
//! per 32 ms chunk or speech segments out.

use super::js_error;
use super::single_file::FileKind;
use crate::audio::Audio;
use crate::device::Device;
use crate::error::Result;
use crate::models::vad::{segments, SegmentOptions, SileroVad};
use futures_util::future::LocalBoxFuture;
use serde::Deserialize;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// The 16 kHz export, among the several ONNX files silero ships.
pub(super) const FILE_KIND: FileKind<'static> = FileKind::One { extension: ".onnx", preferred: Some("silero_vad_16k_op15.onnx") };

/// The detector from its ONNX bytes (it runs on the CPU, whatever the Accelerator's device).
pub(super) fn build(files: Vec<Vec<u8>>, _: Device) -> LocalBoxFuture<'static, Result<(SileroVad, Option<f64>)>> {
    Box::pin(async move { Ok((SileroVad::from_onnx(&super::single_file::only(files)?).await?, None)) })
}

/// `segments` options as the npm package passes them.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawSegmentOptions {
    threshold: Option<f32>,
    min_speech_ms: Option<u32>,
    min_silence_ms: Option<u32>,
    speech_pad_ms: Option<u32>,
}

#[wasm_bindgen]
pub struct VoiceDetector {
    inner: Rc<SileroVad>,
    name: String,
    load_report: String,
}

impl VoiceDetector {
    pub(super) fn new(inner: Rc<SileroVad>, name: String, load_report: String) -> VoiceDetector {
        VoiceDetector { inner, name, load_report }
    }
}

#[wasm_bindgen]
impl VoiceDetector {
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.name.clone()
    }

    #[wasm_bindgen(getter, js_name = loadReport)]
    pub fn load_report(&self) -> std::result::Result<JsValue, JsValue> {
        js_sys::JSON::parse(&self.load_report)
    }

    /// The speech probability of each 512-sample chunk (32 ms) of the audio at 16 kHz.
    pub fn probabilities(&self, samples: Vec<f32>, rate: u32) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        wasm_bindgen_futures::future_to_promise(async move {
            let audio = Audio::new(rate, samples).map_err(js_error)?;
            let p = inner.probabilities(&audio).await.map_err(js_error)?;
            Ok(js_sys::Float32Array::from(p.as_slice()).into())
        })
    }

    /// Speech segments as JSON `[{start, end}]` in seconds; `options` as JSON.
    pub fn segments(&self, samples: Vec<f32>, rate: u32, options: String) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        wasm_bindgen_futures::future_to_promise(async move {
            let raw: RawSegmentOptions = serde_json::from_str(&options).map_err(|e| js_error(format!("segments options: {e}")))?;
            let d = SegmentOptions::default();
            let options = SegmentOptions {
                threshold: raw.threshold.unwrap_or(d.threshold),
                min_speech_ms: raw.min_speech_ms.unwrap_or(d.min_speech_ms),
                min_silence_ms: raw.min_silence_ms.unwrap_or(d.min_silence_ms),
                speech_pad_ms: raw.speech_pad_ms.unwrap_or(d.speech_pad_ms),
            };
            let audio = Audio::new(rate, samples).map_err(js_error)?.at_speech_rate();
            let p = inner.probabilities(&audio).await.map_err(js_error)?;
            let found = segments(&p, audio.samples.len(), audio.rate, &options).map_err(js_error)?;
            let list: Vec<serde_json::Value> = found.iter().map(|s| serde_json::json!({ "start": s.start, "end": s.end })).collect();
            Ok(JsValue::from_str(&serde_json::Value::from(list).to_string()))
        })
    }
}
