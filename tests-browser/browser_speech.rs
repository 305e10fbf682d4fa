//! Whisper tiny.en through the npm package's public API (`Accelerator.loadSpeechRecognizer` →
//! `transcribe(blob, {onSegment})`, the browser decoding the WAV) in headless Chromium and
//! Firefox, token for token against ctranslate2's greedy and 5-beam decodings of the same
//! clips (scripts/reference/whisper_tiny_en.py), timestamps and windows cut at given speech;
//! and what it refuses.

use base64::Engine;
use ipfs_accelerate_host::browser::{detect_all, BrowserKind, BrowserSession};
use ipfs_accelerate_host::paths::wasm_pkg_dir;
use ipfs_accelerate_host::server::RunnerServer;
use serde_json::{json, Value};

const MODEL_URL: &str = "/models/whisper-tiny-en/";
const REFERENCE: &str = include_str!("../sdk-wasm/tests/data/whisper_tiny_en_reference.json");
const FOX: &[u8] = include_bytes!("../sdk-wasm/tests/data/audio/whisper-fox.wav");
const WEATHER: &[u8] = include_bytes!("../sdk-wasm/tests/data/audio/whisper-weather.wav");

async fn launch(kind: BrowserKind, server: &RunnerServer) -> BrowserSession {
    let install = detect_all().into_iter().find(|d| d.kind == kind).and_then(|d| d.install.ok()).unwrap_or_else(|| panic!("{kind:?}"));
    BrowserSession::launch(&install, &server.url()).await.unwrap()
}

async fn transcribe(session: &BrowserSession, clip: &[u8], options: Value) -> Value {
    let wav = base64::engine::general_purpose::STANDARD.encode(clip);
    session.call("transcribeWithApi", vec![MODEL_URL.into(), wav.into(), options]).await.unwrap_or_else(|e| panic!("{e}"))
}

async fn check(kind: BrowserKind) {
    let reference: Value = serde_json::from_str(REFERENCE).unwrap();
    let want = &reference["clips"][0];
    let server = RunnerServer::start(wasm_pkg_dir()).await.unwrap();
    let session = launch(kind, &server).await;
    let reply = transcribe(&session, FOX, json!({})).await;
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

    // Beam search: on this clip 5 beams find other words than greedy decoding.
    let weather = &reference["clips"][1];
    let reply = transcribe(&session, WEATHER, json!({ "beam": 5 })).await;
    assert_eq!(reply["result"]["segments"][0]["tokens"], weather["decodings"]["text_beam5"], "{kind:?}: 5 beams: {reply}");
    assert_ne!(weather["decodings"]["text_beam5"], weather["tokens"]);

    // Timestamps: one timed piece, closed where ctranslate2 closed it.
    let ts = weather["decodings"]["timestamps_beam1"].as_array().unwrap();
    let end = (ts[ts.len() - 1].as_f64().unwrap() - ts[0].as_f64().unwrap()) * 0.02;
    let reply = transcribe(&session, WEATHER, json!({ "timestamps": true })).await;
    let pieces = reply["result"]["segments"].as_array().unwrap_or_else(|| panic!("{reply}"));
    assert_eq!(pieces.len(), 1, "{reply}");
    assert!(pieces[0]["start"] == 0.0 && (pieces[0]["end"].as_f64().unwrap() - end).abs() < 1e-6, "{kind:?}: {reply}");
    assert!(!pieces[0]["text"].as_str().unwrap_or_default().is_empty());

    // Windows cut at given speech segments: both fit one window, which starts at the first.
    let reply = transcribe(&session, FOX, json!({ "speech": [{ "start": 0.2, "end": 1.5 }, { "start": 1.7, "end": 3.6 }] })).await;
    let windows = reply["result"]["segments"].as_array().unwrap_or_else(|| panic!("{reply}"));
    assert_eq!(windows.len(), 1, "{reply}");
    assert!(
        (windows[0]["start"].as_f64().unwrap() - 0.2).abs() < 1e-3 && (windows[0]["end"].as_f64().unwrap() - 3.6).abs() < 1e-3,
        "{reply}"
    );
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

/// The same greedy decoding through WebGPU compute shaders (Firefox's lavapipe here: a
/// software adapter, so this checks the arithmetic, not the speed).
#[tokio::test(flavor = "multi_thread")]
async fn firefox_webgpu_transcribes_a_clip_as_ctranslate2_does() {
    let reference: Value = serde_json::from_str(REFERENCE).unwrap();
    let server = RunnerServer::start(wasm_pkg_dir()).await.unwrap();
    let session = launch(BrowserKind::Firefox, &server).await;
    let reply = transcribe(&session, FOX, json!({ "engine": { "prefer": ["webgpu"] } })).await;
    eprintln!("Firefox WebGPU ({}): transcribe {:.0} ms", reply["adapter"], reply["runMs"].as_f64().unwrap_or(-1.0));
    assert_eq!(reply["device"], "webgpu", "{reply}");
    assert_eq!(reply["result"]["segments"][0]["tokens"], reference["clips"][0]["tokens"], "{reply}");
    session.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_options_are_refused_by_name() {
    let server = RunnerServer::start(wasm_pkg_dir()).await.unwrap();
    let session = launch(BrowserKind::Chromium, &server).await;
    for (options, words) in [
        (json!({ "beam": 0 }), "beam"),
        (json!({ "beam": 2.5 }), "beam"),
        (json!({ "beam": 17 }), "beam"),
        (json!({ "language": "de" }), "English"),
        (json!({ "timestamps": "yes" }), "timestamps"),
        (json!({ "speech": [{ "start": 2, "end": 1 }] }), "speech"),
        (json!({ "speech": "everywhere" }), "speech"),
    ] {
        let reply = transcribe(&session, FOX, options.clone()).await;
        let message = reply["error"]["message"].as_str().unwrap_or_else(|| panic!("{options} was accepted: {reply}"));
        assert!(message.contains(words), "{options}: {message}");
    }
    session.close().await.unwrap();
}
