//! Silero VAD through the npm package's public API (`Accelerator.loadVoiceDetector` →
//! `probabilities(blob)` / `segments(blob)`, the browser decoding the WAV) in headless Chromium
//! and Firefox, against ONNX Runtime's Python run of the same clip
//! (scripts/reference/silero_vad.py); and the API's errors for audio it cannot use.

use base64::Engine;
use ipfs_accelerate_host::browser::{detect_all, BrowserKind, BrowserSession};
use ipfs_accelerate_host::paths::wasm_pkg_dir;
use ipfs_accelerate_host::server::RunnerServer;
use serde_json::{json, Value};

const MODEL_URL: &str = "/models/silero-vad/";
const REFERENCE: &str = include_str!("../sdk-wasm/tests/data/silero_vad_reference.json");
const CLIP: &[u8] = include_bytes!("../sdk-wasm/tests/data/audio/speech-16k.wav");

async fn launch(kind: BrowserKind, server: &RunnerServer) -> BrowserSession {
    let install = detect_all().into_iter().find(|d| d.kind == kind).and_then(|d| d.install.ok()).unwrap_or_else(|| panic!("{kind:?}"));
    BrowserSession::launch(&install, &server.url()).await.unwrap()
}

async fn check(kind: BrowserKind) {
    let reference: Value = serde_json::from_str(REFERENCE).unwrap();
    let server = RunnerServer::start(wasm_pkg_dir()).await.unwrap();
    let session = launch(kind, &server).await;
    let wav = base64::engine::general_purpose::STANDARD.encode(CLIP);
    let reply =
        session.call("hearWithApi", vec![MODEL_URL.into(), wav.into(), json!({})]).await.unwrap_or_else(|e| panic!("{kind:?}: {e}"));
    assert_eq!(reply["loadReport"]["verified"], true, "{}", reply["loadReport"]);
    assert_eq!(reply["loadReport"]["file"], "silero_vad_16k_op15.onnx", "the 16 kHz export is picked among silero's files");
    let got: Vec<f64> = reply["probabilities"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    let want: Vec<f64> = reference["probabilities"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    assert_eq!(got.len(), want.len() + 1, "one more chunk: the last partial one, padded");
    let worst = got.iter().zip(&want).map(|(g, w)| (g - w).abs()).fold(0.0, f64::max);
    let segments = reply["segments"].as_array().unwrap();
    eprintln!(
        "{kind:?}: {} chunks in {:.1} ms, worst probability difference {worst:.2e}, segments {segments:?}",
        got.len(),
        reply["runMs"].as_f64().unwrap_or(-1.0)
    );
    assert!(worst < 1e-3, "{kind:?}: worst difference {worst}");
    let spans = reference["speech_spans_s"].as_array().unwrap();
    assert_eq!(segments.len(), spans.len(), "{segments:?}");
    for (s, span) in segments.iter().zip(spans) {
        let (start, end) = (s["start"].as_f64().unwrap(), s["end"].as_f64().unwrap());
        assert!(start >= span[0].as_f64().unwrap() - 0.1 && end <= span[1].as_f64().unwrap() + 0.1 && end > start, "{s} vs {span}");
    }
    session.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn chromium_decodes_the_clip_and_matches_the_reference() {
    check(BrowserKind::Chromium).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn firefox_decodes_the_clip_and_matches_the_reference() {
    check(BrowserKind::Firefox).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn audio_that_cannot_be_used_is_refused_by_name() {
    let server = RunnerServer::start(wasm_pkg_dir()).await.unwrap();
    let session = launch(BrowserKind::Chromium, &server).await;
    let reply = session.call("audioErrorsOf", vec![MODEL_URL.into(), json!({})]).await.unwrap();
    let errors = &reply["errors"];
    let message = |k: &str| errors[k]["message"].as_str().unwrap_or_else(|| panic!("{k} was accepted: {errors}")).to_string();
    assert!(message("notAudio").contains("could not be decoded as audio"), "{errors}");
    assert!(message("empty").contains("empty"), "{errors}");
    assert!(message("notANumber").contains("sample 1"), "{errors}");
    assert!(message("badRate").contains("100 Hz is not audio"), "{errors}");
    assert!(message("badThreshold").contains("threshold"), "{errors}");
    assert_eq!(errors["aString"]["name"], "TypeError", "{errors}");
    session.close().await.unwrap();
}
