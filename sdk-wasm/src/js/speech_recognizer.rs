//! The `SpeechRecognizer` class the npm package wraps: Whisper over one window of audio at a
//! time (the package cuts long audio into windows — every 30 s, or at the pauses between
//! speech segments — streams each window's text and honours an AbortSignal between windows).

use super::js_error;
use super::single_file::FileKind;
use crate::audio::Audio;
use crate::device::Device;
use crate::error::Result;
use crate::models::whisper::{windows_from_segments, Decoding, Whisper, WINDOW_SECONDS};
use futures_util::future::LocalBoxFuture;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// A CTranslate2 Whisper export's files.
pub(super) const FILE_KIND: FileKind<'static> = FileKind::Set(&["model.bin", "config.json", "tokenizer.json"]);

/// The model from its three files, on `device`.
pub(super) fn build(files: Vec<Vec<u8>>, device: Device) -> LocalBoxFuture<'static, Result<(Whisper, Option<f64>)>> {
    Box::pin(async move {
        let [model, config, tokenizer] = <[Vec<u8>; 3]>::try_from(files)
            .map_err(|f| crate::error::Error::Model(format!("a Whisper model is 3 files, {} were fetched", f.len())))?;
        Ok((Whisper::from_files(&model, &config, &tokenizer, &device).await?, None))
    })
}

#[wasm_bindgen]
pub struct SpeechRecognizer {
    inner: Rc<Whisper>,
    name: String,
    load_report: String,
}

impl SpeechRecognizer {
    pub(super) fn new(inner: Rc<Whisper>, name: String, load_report: String) -> SpeechRecognizer {
        SpeechRecognizer { inner, name, load_report }
    }
}

#[wasm_bindgen]
impl SpeechRecognizer {
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.name.clone()
    }

    #[wasm_bindgen(getter, js_name = loadReport)]
    pub fn load_report(&self) -> std::result::Result<JsValue, JsValue> {
        js_sys::JSON::parse(&self.load_report)
    }

    /// Seconds of audio one `transcribeWindow` call takes at most.
    #[wasm_bindgen(getter, js_name = windowSeconds)]
    pub fn window_seconds(&self) -> f64 {
        WINDOW_SECONDS
    }

    /// One window (≤ 30 s) of mono samples at `rate`, decoded with `beam` hypotheses (1:
    /// greedy), with or without timestamps → JSON `{text, tokens, pieces: [{start, end, text}]}`
    /// (pieces only with timestamps, in seconds from the window's start).
    #[wasm_bindgen(js_name = transcribeWindow)]
    pub fn transcribe_window(&self, samples: Vec<f32>, rate: u32, beam: u32, timestamps: bool) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        wasm_bindgen_futures::future_to_promise(async move {
            let audio = Audio::new(rate, samples).map_err(js_error)?;
            if audio.seconds() > WINDOW_SECONDS + 1e-6 {
                return Err(js_error(format!("a window is at most {WINDOW_SECONDS} s of audio, got {:.2} s", audio.seconds())));
            }
            let t = inner.transcribe(&audio, &Decoding { beam: beam as usize, timestamps }).await.map_err(js_error)?;
            let pieces: Vec<_> = t.pieces.iter().map(|p| serde_json::json!({ "start": p.start, "end": p.end, "text": p.text })).collect();
            Ok(JsValue::from_str(&serde_json::json!({ "text": t.text, "tokens": t.tokens, "pieces": pieces }).to_string()))
        })
    }

    /// The encoder's output for one window (≤ 30 s, padded to 30 s): `[1500 × width]` values,
    /// position-major (the audio's embedding, one row per 20 ms).
    #[wasm_bindgen(js_name = encodeWindow)]
    pub fn encode_window(&self, samples: Vec<f32>, rate: u32) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        wasm_bindgen_futures::future_to_promise(async move {
            let audio = Audio::new(rate, samples).map_err(js_error)?;
            if audio.seconds() > WINDOW_SECONDS + 1e-6 {
                return Err(js_error(format!("a window is at most {WINDOW_SECONDS} s of audio, got {:.2} s", audio.seconds())));
            }
            let features = inner.features(&audio).await.map_err(js_error)?;
            let encoded = inner.encode(&features).await.map_err(js_error)?.to_vec().await.map_err(js_error)?;
            Ok(js_sys::Float32Array::from(encoded.as_slice()).into())
        })
    }

    /// Speech segments `[start, end, start, end, …]` (seconds, in order) packed into windows
    /// of at most 30 s, flattened the same way.
    #[wasm_bindgen(js_name = windowsFromSpeech)]
    pub fn windows_from_speech(&self, bounds: Vec<f64>) -> std::result::Result<Vec<f64>, JsValue> {
        if !bounds.len().is_multiple_of(2) || bounds.iter().any(|b| !b.is_finite() || *b < 0.0) || bounds.windows(2).any(|w| w[1] < w[0]) {
            return Err(js_error("speech must be segments {start, end} in seconds, in order, not overlapping"));
        }
        let segments: Vec<(f64, f64)> = bounds.chunks_exact(2).map(|c| (c[0], c[1])).collect();
        Ok(windows_from_segments(&segments, WINDOW_SECONDS).into_iter().flat_map(|(s, e)| [s, e]).collect())
    }
}
