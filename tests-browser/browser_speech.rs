//! Whisper tiny.en through the npm package's public API (`Accelerator.loadSpeechRecognizer` →
//! `transcribe(blob, {onSegment})`, the browser decoding the WAV) in headless Chromium and
//! Firefox, token for token against ctranslate2's greedy decoding of the same clip
//! (scripts/reference/whisper_tiny_en.py); and what it refuses.

use base64::Engine;
use ipfs_accelerate_host::browser::{detect_all, BrowserKind, BrowserSession};
use ipfs_accelerate_host::paths::wasm_pkg_dir;
use ipfs_accelerate_host::server::RunnerServer;
use serde_json::{json, Value};

const MODEL_URL: &str = "/models/whisper-tiny-en/";
const REFERENCE: &str = include_str!("../sdk-wasm/tests/data/whisper_tiny_en_reference.json");
const CLIP: &[u8] = include_bytes!("../sdk-wasm/tests/data/audio/whisper-fox.wav");

async fn launch(kind: BrowserKind, server: &RunnerServer) -> BrowserSession {
    let install = detect_all().into_iter().find(|d| d.kind == kind).and_then(|d| d.install.ok()).unwrap_or_else(|| panic!("{kind:?}"));
    BrowserSession::launch(&install, &server.url()).await.unwrap()
}

async fn transcribe(session: &BrowserSession, options: Value) -> Value {
    let wav = base64::engine::general_purpose::STANDARD.encode(CLIP);
    session.call("transcribeWithApi", vec![MODEL_URL.into(), wav.into(), options]).await.unwrap_or_else(|e| panic!("{e}"))
}

async fn check(kind: BrowserKind) {
    let reference: Value = serde_json::from_str(REFERENCE).unwrap();
    let want = &reference["clips"][0];
    let server = RunnerServer::start(wasm_pkg_dir()).await.unwrap();
    let session = launch(kind, &server).await;
    let reply = transcribe(&session, json!({})).await;
    assert_eq!(reply["loadReport"]["verified"], true, "{reply}");
    let segments = reply["result"]["segments"].as_array().unwrap_or_else(|| panic!("{reply}"));
    eprintln!(
        "{kind:?} ({}): load {:.0} ms, transcribe {:.0} ms: {}",
        reply["info"]["cpuFlavour"],
        reply["loadMs"].as_f64().unwrap_or(-1.0),
        reply["runMs"].as_f64().unwrap_or(-1.0),
        reply["result"]["text"]
    );
    assert_eq!(segments.len(), 1, "a clip under 30 s is one window: {reply}");
    assert_eq!(segments[0]["tokens"], want["tokens"], "{kind:?}: greedy tokens");
    assert_eq!(reply["result"]["text"].as_str(), want["text"].as_str().map(str::trim));
    assert_eq!(reply["seen"].as_array().map(Vec::len), Some(1), "onSegment is called once per window");
    session.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn chromium_transcribes_a_clip_as_ctranslate2_does() {
    check(BrowserKind::Chromium).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn firefox_transcribes_a_clip_as_ctranslate2_does() {
    check(BrowserKind::Firefox).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn what_is_not_implemented_is_refused_by_name() {
    let server = RunnerServer::start(wasm_pkg_dir()).await.unwrap();
    let session = launch(BrowserKind::Chromium, &server).await;
    for (options, words) in
        [(json!({ "beam": 5 }), "beam search"), (json!({ "language": "de" }), "English"), (json!({ "timestamps": true }), "timestamp")]
    {
        let reply = transcribe(&session, options.clone()).await;
        let message = reply["error"]["message"].as_str().unwrap_or_else(|| panic!("{options} was accepted: {reply}"));
        assert!(message.contains(words), "{options}: {message}");
    }
    session.close().await.unwrap();
}
