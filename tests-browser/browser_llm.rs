//! SmolLM2-135M-Instruct (GGUF Q4_1) text generation through the npm package's public API
//! (`Accelerator.loadLanguageModel` → `model.generate` with `onToken` and an AbortSignal)
//! inside headless Chromium, on the wasm SIMD CPU path and WebGPU, against the independent
//! numpy reference (scripts/reference/smollm2_greedy.py); and the API's errors.

use ipfs_accelerate_host::browser::{detect_all, BrowserKind, BrowserSession};
use ipfs_accelerate_host::paths::{model_cache, wasm_pkg_dir};
use ipfs_accelerate_host::server::RunnerServer;
use serde_json::{json, Value};

#[path = "../host/tests/support/op_profile.rs"]
mod op_profile;

const REFERENCE: &str = include_str!("../sdk-wasm/tests/data/smollm2_greedy.json");
const MODEL_URL: &str = "/models/smollm2-135m-instruct/";

fn reference() -> Value {
    serde_json::from_str(REFERENCE).unwrap()
}

fn ids(v: &Value) -> Vec<u64> {
    v.as_array().unwrap_or_else(|| panic!("not an array: {v}")).iter().map(|x| x.as_u64().unwrap()).collect()
}

fn greedy_ids(case: &Value) -> Vec<u64> {
    case["steps"].as_array().unwrap().iter().map(|s| s["id"].as_u64().unwrap()).collect()
}

async fn chromium(server: &RunnerServer) -> BrowserSession {
    launch(BrowserKind::Chromium, server).await
}

async fn launch(kind: BrowserKind, server: &RunnerServer) -> BrowserSession {
    let install = detect_all().into_iter().find(|d| d.kind == kind).and_then(|d| d.install.ok()).unwrap_or_else(|| panic!("{kind:?}"));
    BrowserSession::launch(&install, &server.url()).await.unwrap()
}

async fn generate(session: &BrowserSession, prompt: Value, options: Value) -> Value {
    let reply =
        session.call("generateWithApi", vec![MODEL_URL.into(), prompt, options.clone()]).await.unwrap_or_else(|e| panic!("{options}: {e}"));
    if let Some(r) = reply.get("result") {
        eprintln!(
            "{} {}: load {:.0} ms, prefill {:.0} ms, {} tokens at {:.1} tok/s",
            reply["device"],
            options,
            reply["loadMs"].as_f64().unwrap_or(-1.0),
            r["prefillMs"].as_f64().unwrap_or(-1.0),
            r["tokens"].as_array().map_or(0, |t| t.len()),
            r["decodeTokensPerSecond"].as_f64().unwrap_or(-1.0)
        );
    }
    reply
}

#[tokio::test(flavor = "multi_thread")]
async fn chromium_wasm_cpu_generation_streams_the_reference_greedy_tokens_and_stops_on_abort() {
    let reference = reference();
    let raw = &reference["greedy"][0];
    let server = RunnerServer::start(wasm_pkg_dir()).await.unwrap();
    let session = chromium(&server).await;

    // A raw prompt: the first 10 greedy ids, streamed piece by piece.
    let reply = generate(&session, raw["prompt"].clone(), json!({ "maxTokens": 10, "stopAtEos": false })).await;
    assert_eq!(reply["device"], "cpu", "{reply}");
    assert_eq!(reply["loadReport"]["verified"], true, "{}", reply["loadReport"]);
    assert_eq!(ids(&reply["tokenized"]), ids(&raw["prompt_ids"]), "tokenisation in the browser");
    let result = &reply["result"];
    assert_eq!(ids(&result["tokens"]), greedy_ids(raw), "{result}");
    assert_eq!(result["text"], raw["continuation"]);
    assert_eq!(result["finishReason"], "length");
    let pieces: Vec<&str> = reply["pieces"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    assert!(pieces.len() >= 8, "streamed as it came, not at the end: {pieces:?}");
    assert_eq!(pieces.concat(), raw["continuation"].as_str().unwrap());
    assert!(result["timeToFirstTokenMs"].as_f64().unwrap() >= result["prefillMs"].as_f64().unwrap());
    assert!(reply["weightBytes"].as_f64().unwrap() > 50e6 && reply["weightBytes"].as_f64().unwrap() < 120e6, "stays 4-bit: {reply}");

    // Chat messages through the GGUF's template: the reference's ChatML turn, up to <|im_end|>.
    let chat = &reference["greedy"][1];
    let messages = json!([{ "role": "user", "content": "What is the capital of France?" }]);
    let reply = generate(&session, messages, json!({ "maxTokens": 10 })).await;
    let result = &reply["result"];
    let want: Vec<u64> = greedy_ids(chat).into_iter().take_while(|&id| id != 2).collect();
    assert_eq!(ids(&result["tokens"]), want, "{result}");
    assert_eq!(result["finishReason"], "eos");
    assert_eq!(result["promptTokens"].as_u64().unwrap() as usize, chat["prompt_ids"].as_array().unwrap().len());

    // Aborted from another task after two pieces: rejects with AbortError, partial result kept.
    let reply = generate(&session, raw["prompt"].clone(), json!({ "maxTokens": 40, "stopAtEos": false, "abortAfterPieces": 2 })).await;
    let error = &reply["error"];
    assert_eq!(error["name"], "AbortError", "{reply}");
    let partial = ids(&error["result"]["tokens"]);
    assert!((2..=4).contains(&partial.len()), "stopped within a token or two of the abort: {partial:?}");
    assert_eq!(partial, greedy_ids(raw)[..partial.len()]);
    assert_eq!(error["result"]["finishReason"], "cancelled");

    // onToken returning false stops cleanly.
    let reply = generate(&session, raw["prompt"].clone(), json!({ "maxTokens": 40, "stopAfterPieces": 3 })).await;
    assert_eq!(reply["result"]["finishReason"], "cancelled", "{reply}");
    assert_eq!(reply["result"]["tokens"].as_array().unwrap().len(), 3);

    // `for await` over `stream()`: the same pieces and result; leaving the loop stops it.
    let reply = session
        .call("streamWithApi", vec![MODEL_URL.into(), raw["prompt"].clone(), json!({ "maxTokens": 10, "stopAtEos": false })])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let pieces: Vec<&str> = reply["pieces"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    assert_eq!(pieces.concat(), raw["continuation"].as_str().unwrap(), "{reply}");
    assert_eq!(ids(&reply["result"]["tokens"]), greedy_ids(raw));
    let reply = session
        .call(
            "streamWithApi",
            vec![MODEL_URL.into(), raw["prompt"].clone(), json!({ "maxTokens": 40, "stopAtEos": false, "breakAfterPieces": 2 })],
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((reply["left"].as_bool(), reply["pieces"].as_array().map(Vec::len)), (Some(true), Some(2)), "{reply}");
    assert_eq!(reply["after"]["tokens"].as_array().map(Vec::len), Some(2), "{reply}");

    // Seeded sampling is reproducible.
    let sampled = json!({ "maxTokens": 8, "temperature": 0.8, "topK": 40, "topP": 0.9, "seed": 7, "stopAtEos": false });
    let a = generate(&session, raw["prompt"].clone(), sampled.clone()).await;
    let b = generate(&session, raw["prompt"].clone(), sampled).await;
    assert_eq!(a["result"]["tokens"], b["result"]["tokens"]);
    session.close().await.unwrap();
}

/// Firefox's threaded build (workers sharing memory) gives the reference's greedy tokens too.
#[tokio::test(flavor = "multi_thread")]
async fn firefox_wasm_threads_generation_matches_the_reference_greedy_tokens() {
    let reference = reference();
    let raw = &reference["greedy"][0];
    let server = RunnerServer::start(wasm_pkg_dir()).await.unwrap();
    let session = launch(BrowserKind::Firefox, &server).await;
    let reply = generate(&session, raw["prompt"].clone(), json!({ "maxTokens": 10, "stopAtEos": false })).await;
    assert!(reply["info"]["build"].as_str().unwrap_or_default().starts_with("threads"), "{}", reply["info"]);
    assert!(reply["info"]["threads"].as_u64().unwrap_or(0) >= 1, "{}", reply["info"]);
    assert_eq!(ids(&reply["tokenized"]), ids(&raw["prompt_ids"]));
    assert_eq!(ids(&reply["result"]["tokens"]), greedy_ids(raw), "{reply}");

    // 8-bit activations follow the reference that rounds them as ggml does, up to its first
    // step closer than 0.5 logits (step 5; see llama_reference.rs for why that threshold).
    let q8: Value = serde_json::from_str(include_str!("../sdk-wasm/tests/data/smollm2_q8_activations.json")).unwrap();
    let reply = generate(&session, raw["prompt"].clone(), json!({ "maxTokens": 5, "stopAtEos": false, "activations": "int8" })).await;
    assert_eq!(ids(&reply["result"]["tokens"]), ids(&q8["prompts"][0]["q8_free_ids"])[..5], "{reply}");
    let messages = json!([{ "role": "user", "content": "What is the capital of France?" }]);
    let reply = generate(&session, messages, json!({ "maxTokens": 2, "activations": "int4" })).await;
    let message = reply["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("activations") && message.contains("expected f32 or int8"), "{reply}");
    session.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn chromium_webgpu_generation_matches_the_reference_first_tokens() {
    // Three tokens: SwiftShader emulates the GPU on the CPU and is slow.
    let raw = &reference()["greedy"][0];
    let server = RunnerServer::start(wasm_pkg_dir()).await.unwrap();
    let session = chromium(&server).await;
    let reply = generate(&session, raw["prompt"].clone(), json!({ "prefer": ["webgpu"], "maxTokens": 3, "stopAtEos": false })).await;
    assert_eq!(reply["device"], "webgpu", "{reply}");
    assert_eq!(ids(&reply["result"]["tokens"]), greedy_ids(raw)[..3]);
    session.close().await.unwrap();
}

/// Models for error cases: a GGUF cut short, and a model with no GGUF file.
fn broken_models(root: &std::path::Path) {
    let real = model_cache().join("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf");
    let bytes = std::fs::read(&real).unwrap();
    let dir = root.join("truncated-gguf");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("model.gguf"), &bytes[..bytes.len() / 2]).unwrap();
    let dir = root.join("no-gguf");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.json"), "{}").unwrap();
    std::os::unix::fs::symlink(real.parent().unwrap(), root.join("smollm2-135m-instruct")).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn llm_errors_name_what_was_wrong() {
    let root = std::env::temp_dir().join(format!("ipfs-accelerate-broken-llm-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    broken_models(&root);
    let server = RunnerServer::start_with_models(wasm_pkg_dir(), root.clone()).await.unwrap();
    let session = chromium(&server).await;
    let cases = [
        ("/models/truncated-gguf/", json!({}), vec!["model.gguf", "truncated"]),
        ("/models/no-gguf/", json!({}), vec!["lists no .gguf file"]),
        (MODEL_URL, json!({ "temperature": -1 }), vec!["temperature"]),
        (MODEL_URL, json!({ "topP": 0 }), vec!["topP"]),
        (MODEL_URL, json!({ "maxTokenz": 3 }), vec!["unknown field", "maxTokenz"]),
        (MODEL_URL, json!({ "load": { "file": "other.gguf" } }), vec!["no file", "other.gguf"]),
    ];
    for (url, options, needles) in cases {
        let err = session.call("llmErrorOf", vec![url.into(), "Hello".into(), options.clone()]).await.unwrap();
        let message = err["message"].as_str().unwrap_or_else(|| panic!("{url} {options}: no error: {err}"));
        for needle in needles {
            assert!(message.contains(needle), "{url} {options}: {message:?} should mention {needle:?}");
        }
    }
    let err = session.call("llmErrorOf", vec![MODEL_URL.into(), json!([{ "role": "tool", "content": "x" }]), json!({})]).await.unwrap();
    assert!(err["message"].as_str().unwrap().contains("unknown chat role"), "{err}");
    let err = session.call("llmErrorOf", vec![MODEL_URL.into(), json!(42), json!({})]).await.unwrap();
    assert_eq!(err["name"], "TypeError", "{err}");
    session.close().await.unwrap();
    let _ = std::fs::remove_dir_all(&root);
}

/// The engine's per-op CPU profile of a warm greedy generation (`profileGenerate`: a warm-up
/// generation, then a profiled one of 16 tokens) in the threaded build: the quantized
/// projections, the cached attention and the norms each show up, once per layer and step, and
/// together they fit within the generation's wall time (CPU ops run one after another).
#[tokio::test(flavor = "multi_thread")]
async fn per_op_cpu_profile_accounts_for_the_generation_time() {
    let server = RunnerServer::start(wasm_pkg_dir()).await.unwrap();
    let session = chromium(&server).await;
    let prompt = reference()["greedy"][0]["prompt"].clone();
    let reply = session.call("profileGenerate", vec![MODEL_URL.into(), prompt, json!({ "tokens": 16 })]).await.unwrap();
    session.close().await.unwrap();
    let ops = op_profile::printed_and_within_wall_time(&reply);
    for op in ["qmatmul", "attention", "rmsnorm", "rope", "silu_mul"] {
        assert!(ops.contains_key(op), "{op} missing: {reply}");
    }
    // SmolLM2-135M: 30 layers × 7 projections + the LM head, for the prefill and 15 steps.
    assert_eq!(ops["qmatmul"]["calls"], 16 * (30 * 7 + 1), "{reply}");
    assert_eq!(ops["rmsnorm"]["calls"].as_u64().unwrap() % 16, 0, "{reply}");
}
