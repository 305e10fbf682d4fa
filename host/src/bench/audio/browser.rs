//! The audio suite in a real browser: ours through the npm package's `loadVoiceDetector` on the
//! wasm CPU path with every core (the clip decoded by the browser once, then timed), and
//! Whisper through `loadSpeechRecognizer` (the encoder, and the three clips transcribed; at
//! most 1 warm-up and 3 samples: a sample is seconds there).

use super::{apply_accuracy, clip_case, failed, load_case, Options, CLIP};
use crate::bench::record::EnvRecord;
use crate::bench::{progress, BEST};
use crate::browser::{BrowserInstall, BrowserSession};
use base64::Engine as _;
use ipfs_accelerate::AdapterSummary;
use serde_json::{json, Value};

pub const LABEL: &str = "browser-cpu-threads";
const MODEL_URL: &str = "/models/silero-vad/";

pub async fn run(install: &BrowserInstall, runner_url: &str, opts: &Options) -> EnvRecord {
    let browser = install.kind.name();
    let mut env = match BrowserSession::launch(install, runner_url).await {
        Err(e) => failed(LABEL, e.to_string()),
        Ok(session) => {
            let env = measure(&session, opts).await;
            if let Err(e) = session.close().await {
                progress(format!("{browser}: closing failed: {e}"));
            }
            env
        }
    };
    env.browser = Some(browser.into());
    env
}

async fn measure(session: &BrowserSession, opts: &Options) -> EnvRecord {
    progress(format!("{LABEL} ({}): silero-vad, {} samples", session.kind.name(), opts.samples));
    let wav = base64::engine::general_purpose::STANDARD.encode(CLIP);
    let spec = json!({ "warmup": opts.warmup, "samples": opts.samples, "engine": BEST.json() });
    let reply = match session.call("benchVoice", vec![MODEL_URL.into(), wav.clone().into(), spec]).await {
        Ok(r) => r,
        Err(e) => return failed(LABEL, e.to_string()),
    };
    let ms: Vec<f64> = reply["ms"].as_array().into_iter().flatten().filter_map(Value::as_f64).collect();
    let chunks = reply["chunks"].as_u64().unwrap_or(0) as usize;
    let seconds = reply["seconds"].as_f64().unwrap_or(0.0);
    let mut records = vec![load_case(reply["loadMs"].as_f64().unwrap_or(f64::NAN)), clip_case(opts.warmup, ms, chunks, seconds)];
    let heard = session.call("hearWithApi", vec![MODEL_URL.into(), wav.into(), BEST.json()]).await.map_err(|e| e.to_string());
    let probabilities =
        heard.map(|r| r["probabilities"].as_array().into_iter().flatten().filter_map(Value::as_f64).map(|v| v as f32).collect());
    apply_accuracy(&mut records, probabilities);
    progress(format!("{LABEL} ({}): whisper-tiny.en", session.kind.name()));
    let spec = json!({ "warmup": opts.warmup.min(1), "samples": opts.samples.min(3), "prefer": ["cpu"], "engine": BEST.json() });
    records.extend(super::whisper::browser_cases(session, spec).await);
    let mut env = EnvRecord::new(LABEL, serde_json::from_value::<AdapterSummary>(reply["adapter"].clone()).unwrap_or_default(), records);
    env.ran_in(session);
    env
}
