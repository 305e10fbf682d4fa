//! all-MiniLM-L6-v2 sentence embeddings through the npm package's public API
//! (`Accelerator.create` → `acc.load(url, {onProgress})` → `model.embed` → `dispose`) inside
//! headless Chromium, on the wasm SIMD CPU path and WebGPU, with config, tokenizer and weights
//! fetched over HTTP, against the independent numpy reference
//! (scripts/reference/minilm_embeddings.py); and the API's errors for broken models.

use ipfs_accelerate_host::browser::{detect_all, BrowserKind, BrowserSession};
use ipfs_accelerate_host::paths::{model_cache, wasm_pkg_dir};
use ipfs_accelerate_host::server::RunnerServer;
use serde_json::{json, Value};

#[path = "../host/tests/support/op_profile.rs"]
mod op_profile;

const REFERENCE: &str = include_str!("../sdk-wasm/tests/data/minilm_embeddings.json");

fn cosine(a: &[f64], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    dot / (a.iter().map(|x| x * x).sum::<f64>().sqrt() * b.iter().map(|y| y * y).sum::<f64>().sqrt())
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

async fn launch(kind: BrowserKind, server: &RunnerServer) -> BrowserSession {
    let install =
        detect_all().into_iter().find(|d| d.kind == kind).and_then(|d| d.install.ok()).unwrap_or_else(|| panic!("{kind:?} not installed"));
    BrowserSession::launch(&install, &server.url()).await.unwrap()
}

fn cores() -> u64 {
    std::thread::available_parallelism().map(|n| n.get() as u64).unwrap_or(1)
}

async fn chromium(server: &RunnerServer) -> BrowserSession {
    launch(BrowserKind::Chromium, server).await
}

/// All reference sentences in one `embed` call: a batch mixing lengths (1 to 256 tokens).
async fn embed_in_chromium(prefer: &str, count: usize) -> (Value, Vec<Vec<f64>>) {
    embed_in(BrowserKind::Chromium, prefer, count).await
}

async fn embed_in(kind: BrowserKind, prefer: &str, count: usize) -> (Value, Vec<Vec<f64>>) {
    embed_with(kind, Page::Isolated, json!({ "prefer": [prefer] }), count).await
}

/// Whether the runner page is served cross-origin isolated (COOP/COEP), as wasm threads need.
#[derive(PartialEq)]
enum Page {
    Isolated,
    NotIsolated,
}

/// `embedWithApi` with `options` (prefer, threads) on the first `count` reference sentences.
async fn embed_with(kind: BrowserKind, page: Page, options: Value, count: usize) -> (Value, Vec<Vec<f64>>) {
    embed_model(kind, page, "/models/all-minilm-l6-v2/", REFERENCE, options, count).await
}

/// As `embed_with`, for the model at `base` and its reference sentences (`reference`, JSON).
async fn embed_model(
    kind: BrowserKind,
    page: Page,
    base: &str,
    reference: &str,
    mut options: Value,
    count: usize,
) -> (Value, Vec<Vec<f64>>) {
    let reference: Value = serde_json::from_str(reference).unwrap();
    let sentences: Vec<&Value> = reference["sentences"].as_array().unwrap().iter().take(count).collect();
    let texts: Vec<Value> = sentences.iter().map(|s| s["text"].clone()).collect();
    let server = RunnerServer::start(wasm_pkg_dir()).await.unwrap();
    let url = if page == Page::Isolated { server.url() } else { format!("{}&isolation=off", server.url()) };
    let install =
        detect_all().into_iter().find(|d| d.kind == kind).and_then(|d| d.install.ok()).unwrap_or_else(|| panic!("{kind:?} not installed"));
    let session = BrowserSession::launch(&install, &url).await.unwrap();
    options["maxTokens"] = reference["max_tokens"].clone();
    let prefer = options["prefer"][0].as_str().unwrap_or("?").to_string();
    let reply = session
        .call("embedWithApi", vec![Value::from(base), Value::Array(texts), options])
        .await
        .unwrap_or_else(|e| panic!("{prefer}: {e}"));
    session.close().await.unwrap();
    eprintln!(
        "{kind:?} {prefer} ({}): load {:.0} ms, embed {} texts {:.0} ms",
        reply["info"],
        reply["loadMs"].as_f64().unwrap_or(-1.0),
        sentences.len(),
        reply["embedMs"].as_f64().unwrap_or(-1.0)
    );
    let want = sentences.iter().map(|s| floats(&s["embedding"])).collect();
    (reply, want)
}

fn assert_matches(reply: &Value, want: &[Vec<f64>]) {
    let got: Vec<Vec<f64>> = reply["embeddings"].as_array().unwrap().iter().map(floats).collect();
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g.len(), 384);
        let c = cosine(g, w);
        assert!(c >= 0.9999, "sentence {i}: cosine {c}");
    }
}

/// MiniLM's recorded graph built with MLGraphBuilder and run with MLContext.dispatch in the
/// WebNN Chromium (TFLite/XNNPACK), through the public JS API.
#[tokio::test(flavor = "multi_thread")]
async fn webnn_embeddings_match_reference_in_chromium_153() {
    if !ipfs_accelerate_host::browser::chromium_webnn_dir().exists() {
        println!("skipping: the WebNN Chromium is absent (`cargo xtask setup` installs it)");
        return;
    }
    let (reply, want) = embed_in(BrowserKind::ChromiumWebnn, "webnn", usize::MAX).await;
    assert_eq!(reply["device"], "webnn");
    assert_matches(&reply, &want);
}

#[tokio::test(flavor = "multi_thread")]
async fn chromium_wasm_cpu_embeddings_match_reference_through_the_js_api() {
    let (reply, want) = embed_in_chromium("cpu", usize::MAX).await;
    assert_eq!(reply["device"], "cpu");
    // An isolated page, no `threads`: the threaded build over every core, in the engine's
    // Worker, with relaxed SIMD (Chromium validates it).
    assert_eq!(reply["info"]["build"], "threads-relaxed", "{}", reply["info"]);
    assert_eq!(reply["info"]["threads"], cores(), "{}", reply["info"]);
    assert_eq!(reply["info"]["cpuFlavour"], "wasm-simd128-relaxed-threads");
    assert_eq!(reply["dimensions"], 384);
    assert_matches(&reply, &want);
    // Progress came for all three files, and the last report of the weights is complete.
    let files: Vec<&str> = reply["progress"]["files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
    assert_eq!(files, ["config.json", "tokenizer.json", "model.safetensors"]);
    let last = &reply["progress"]["last"];
    assert_eq!(last["loaded"], last["total"], "{last}");
    assert!(last["loaded"].as_u64().unwrap() > 80_000_000, "{last}");
    // Bytes arrive in the download phase; the whole file is then checked against its CID.
    assert_eq!(last["phase"], "verify", "{last}");
    assert!(reply["progress"]["phases"].as_array().is_some_and(|p| p.contains(&json!("download"))), "{}", reply["progress"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn firefox_wasm_threads_embeddings_match_reference() {
    let (reply, want) = embed_with(BrowserKind::Firefox, Page::Isolated, json!({ "prefer": ["cpu"] }), 4).await;
    assert!(reply["info"]["build"].as_str().unwrap().starts_with("threads"), "{}", reply["info"]);
    assert_eq!(reply["info"]["threads"], cores(), "{}", reply["info"]);
    assert_matches(&reply, &want);
}

/// `threads: 1` loads a one-thread build even where threads could run: with relaxed SIMD where
/// the browser has it (Chromium does), the plain SIMD one with `relaxedSimd: false`.
#[tokio::test(flavor = "multi_thread")]
async fn one_thread_builds_with_and_without_relaxed_simd() {
    for (relaxed, build, flavour) in [(true, "relaxed", "wasm-simd128-relaxed"), (false, "simd", "wasm-simd128")] {
        let options = json!({ "prefer": ["cpu"], "threads": 1, "relaxedSimd": relaxed });
        let (reply, want) = embed_with(BrowserKind::Chromium, Page::Isolated, options, 4).await;
        assert_eq!(reply["info"]["build"], build, "{}", reply["info"]);
        assert_eq!(reply["info"]["threads"], 1);
        assert_eq!(reply["info"]["cpuFlavour"], flavour);
        assert_matches(&reply, &want);
    }
}

/// Worst 1 − cosine of the reply's embeddings against `want`.
fn worst_gap(reply: &Value, want: &[Vec<f64>]) -> f64 {
    let got: Vec<Vec<f64>> = reply["embeddings"].as_array().unwrap_or_else(|| panic!("{reply}")).iter().map(floats).collect();
    assert_eq!(got.len(), want.len());
    got.iter().zip(want).map(|(g, w)| 1.0 - cosine(g, w)).fold(0.0, f64::max)
}

/// int8 linear layers in wasm, within the bounds the native tests state (sdk-wasm/tests/int8_models.rs):
/// f32 weights quantized at load (`quantize: "int8"`) in the threaded relaxed-SIMD build
/// (`i32x4.relaxed_dot_i8x16_i7x16_add`) and the one-thread plain-SIMD build (`i32x4.dot_i16x8_s`),
/// against the f32 reference; the int8 ONNX export's own weights against ONNX Runtime on that file.
#[tokio::test(flavor = "multi_thread")]
async fn int8_linear_layers_in_wasm_stay_within_the_stated_bounds() {
    for (options, flavour) in [
        (json!({ "prefer": ["cpu"], "quantize": "int8" }), "wasm-simd128-relaxed-threads"),
        (json!({ "prefer": ["cpu"], "quantize": "int8", "threads": 1, "relaxedSimd": false }), "wasm-simd128"),
    ] {
        let (reply, want) = embed_with(BrowserKind::Chromium, Page::Isolated, options, usize::MAX).await;
        assert_eq!(reply["info"]["cpuFlavour"], flavour);
        let gap = worst_gap(&reply, &want);
        eprintln!("{flavour}, quantized at load: worst 1 − cos {gap:.1e} vs f32");
        assert!(gap < 6e-3 && gap > 1e-6, "{flavour}: 1 − cos {gap}");
    }
    let onnx_runtime: Value = serde_json::from_str(include_str!("../sdk-wasm/tests/data/onnx_minilm_embeddings.json")).unwrap();
    let reference = onnx_runtime["models"]["all-minilm-l6-v2-int8"].to_string();
    let options = json!({ "prefer": ["cpu"], "weights": "model.onnx" });
    let (reply, want) =
        embed_model(BrowserKind::Chromium, Page::Isolated, "/models/all-minilm-l6-v2-int8/", &reference, options, usize::MAX).await;
    let gap = worst_gap(&reply, &want);
    eprintln!("int8 export's own weights: worst 1 − cos {gap:.1e} vs ONNX Runtime");
    assert!(gap < 3e-3 && gap > 1e-6, "1 − cos {gap}");
}

/// A page without COOP/COEP cannot share memory between workers: the one-thread build runs,
/// and `info()` says why.
#[tokio::test(flavor = "multi_thread")]
async fn without_cross_origin_isolation_the_one_thread_build_runs_and_says_why() {
    for kind in [BrowserKind::Chromium, BrowserKind::Firefox] {
        let (reply, want) = embed_with(kind, Page::NotIsolated, json!({ "prefer": ["cpu"] }), 4).await;
        let info = &reply["info"];
        assert!(["simd", "relaxed"].contains(&info["build"].as_str().unwrap()), "{kind:?}: {info}");
        assert_eq!(info["crossOriginIsolated"], false, "{kind:?}: {info}");
        assert!(info["threadsUnavailable"].as_str().unwrap().contains("cross-origin isolated"), "{kind:?}: {info}");
        assert_matches(&reply, &want);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn chromium_webgpu_embeddings_match_reference_through_the_js_api() {
    // Three sentences: SwiftShader emulates the GPU on the CPU and is slow.
    let (reply, want) = embed_in_chromium("webgpu", 3).await;
    assert_eq!(reply["device"], "webgpu");
    assert_matches(&reply, &want);
}

/// A model directory for error cases: real files linked in, one thing broken.
fn broken_models() -> tempdir::Dir {
    let root = tempdir::Dir::new("ipfs-accelerate-broken-models");
    let real = model_cache().join("all-minilm-l6-v2");
    let config: Value = serde_json::from_str(&std::fs::read_to_string(real.join("config.json")).unwrap()).unwrap();
    let make = |name: &str, config_text: String, with_weights: bool| {
        let dir = root.path.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("config.json"), config_text).unwrap();
        std::os::unix::fs::symlink(real.join("tokenizer.json"), dir.join("tokenizer.json")).unwrap();
        if with_weights {
            std::os::unix::fs::symlink(real.join("model.safetensors"), dir.join("model.safetensors")).unwrap();
        }
    };
    make("bad-json", "{ not json".into(), true);
    let mut gpt2 = config.clone();
    gpt2["model_type"] = "gpt2".into();
    make("unknown-arch", gpt2.to_string(), true);
    let mut wide = config.clone();
    wide["hidden_size"] = 768.into();
    make("wrong-shape", wide.to_string(), true);
    make("no-weights", config.to_string(), false);
    root
}

mod tempdir {
    pub struct Dir {
        pub path: std::path::PathBuf,
    }
    impl Dir {
        pub fn new(prefix: &str) -> Dir {
            let path = std::env::temp_dir().join(format!("{prefix}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&path);
            std::fs::create_dir_all(&path).unwrap();
            Dir { path }
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn broken_models_reject_with_messages_that_name_the_problem() {
    let models = broken_models();
    let server = RunnerServer::start_with_models(wasm_pkg_dir(), models.path.clone()).await.unwrap();
    let session = chromium(&server).await;
    let cases = [
        ("/models/no-weights/", vec!["no file", "model.safetensors"]),
        ("/models/does-not-exist/", vec!["404", "config.json"]),
        ("/models/bad-json/", vec!["config.json", "not valid JSON"]),
        ("/models/unknown-arch/", vec!["unknown architecture", "gpt2"]),
        ("/models/wrong-shape/", vec!["shape", "768"]),
    ];
    for (url, needles) in cases {
        let err = session.call("errorOf", vec![url.into(), json!(["hello"]), json!({ "prefer": ["cpu"] })]).await.unwrap();
        let message = err["message"].as_str().unwrap_or_else(|| panic!("{url} loaded without error: {err}"));
        for needle in needles {
            assert!(message.contains(needle), "{url}: {message:?} should mention {needle:?}");
        }
    }
    // Bad arguments are TypeErrors, before any network traffic.
    let err = session.call("errorOf", vec!["/models/bad-json/".into(), json!(["x"]), json!({ "prefer": ["tpu"] })]).await.unwrap();
    assert!(err["message"].as_str().unwrap().contains("unknown device \"tpu\""), "{err}");
    session.close().await.unwrap();
}

/// The engine's per-op CPU profile (`profileBegin`/`profileTake`) in the threaded build: every op
/// of a BERT forward shows up, and together they account for most of the embed's wall time
/// (they cannot exceed it: CPU ops run one after another).
#[tokio::test(flavor = "multi_thread")]
async fn per_op_cpu_profile_accounts_for_the_embed_time() {
    let server = RunnerServer::start(wasm_pkg_dir()).await.unwrap();
    let session = chromium(&server).await;
    let texts: Vec<Value> = (0..8).map(|i| Value::from(format!("{i} {}", "profiled words ".repeat(60)))).collect();
    let reply = session
        .call("profileEmbed", vec!["/models/all-minilm-l6-v2/".into(), Value::Array(texts), json!({ "repeats": 2, "maxTokens": 128 })])
        .await
        .unwrap();
    session.close().await.unwrap();
    let ops = op_profile::printed_and_within_wall_time(&reply);
    for op in ["linear", "attention", "gelu", "layernorm", "add"] {
        assert!(ops.contains_key(op), "{op} missing: {reply}");
    }
    // 6 layers × 6 linear layers (matmul + bias, one op) per forward, 2 forwards.
    assert_eq!(ops["linear"]["calls"], 72, "{reply}");
}

/// The task API over the same models: `acc.pipeline("feature-extraction", …)` gives the
/// reference embeddings for one text and for a list; `"text-generation"` generates and
/// streams the same text; options it cannot honour and unknown tasks are named errors.
#[tokio::test(flavor = "multi_thread")]
async fn the_task_api_embeds_and_generates_like_the_model_classes() {
    let server = RunnerServer::start(wasm_pkg_dir()).await.unwrap();
    let session = chromium(&server).await;
    let reference: Value = serde_json::from_str(REFERENCE).unwrap();
    let sentences = reference["sentences"].as_array().unwrap();
    let (a, b) = (sentences[0]["text"].clone(), sentences[1]["text"].clone());
    let options = json!({ "load": { "maxTokens": reference["max_tokens"] } });
    let reply = session
        .call("pipelineWithApi", vec!["feature-extraction".into(), "/models/all-minilm-l6-v2/".into(), json!([a, [a, b]]), options])
        .await
        .unwrap();
    assert_eq!(reply["task"], "feature-extraction", "{reply}");
    let want = |i: usize| floats(&sentences[i]["embedding"]);
    assert!(cosine(&floats(&reply["outputs"][0]), &want(0)) >= 0.9999, "one text → one vector");
    for i in 0..2 {
        assert!(cosine(&floats(&reply["outputs"][1][i]), &want(i)) >= 0.9999, "a list → one vector per text");
    }

    let refused = |options: Value, task: &'static str| {
        let session = &session;
        async move {
            let reply = session.call("pipelineWithApi", vec![task.into(), "/models/all-minilm-l6-v2/".into(), json!(["x"]), options]).await;
            reply.unwrap()["error"].as_str().unwrap_or_default().to_string()
        }
    };
    let err = refused(json!({ "callOptions": { "normalize": false } }), "feature-extraction").await;
    assert!(err.contains("normalize"), "{err}");
    let err = refused(json!({ "callOptions": { "pooling": "cls" } }), "feature-extraction").await;
    assert!(err.contains("\"mean\"") && err.contains("\"cls\""), "{err}");
    let err = refused(json!({}), "summarization").await;
    assert!(err.contains("summarization") && err.contains("feature-extraction, text-generation"), "{err}");

    let prompt = "The capital of France is";
    let generation = json!({ "callOptions": { "maxTokens": 4, "stopAtEos": false } });
    let reply = session
        .call("pipelineWithApi", vec!["text-generation".into(), "/models/smollm2-135m-instruct/".into(), json!([prompt]), generation])
        .await
        .unwrap();
    let text = reply["outputs"][0]["text"].as_str().unwrap_or_default();
    assert_eq!(reply["outputs"][0]["tokens"].as_array().map(Vec::len), Some(4), "{reply}");
    let streamed: String = reply["streamed"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert_eq!(streamed, text, "the stream gives the same greedy text");
    session.close().await.ok();
}

/// `ipfs-accelerate/react` in a real React 18 tree: `useEmbeddings` renders the vectors'
/// shape, `useGeneration` streams the greedy text into the DOM, `stop()` ends a long
/// generation with its partial text kept, and unmounting disposes the hook's Accelerator.
#[tokio::test(flavor = "multi_thread")]
async fn the_react_hooks_load_stream_stop_and_dispose_in_a_real_react_tree() {
    let server = RunnerServer::start(wasm_pkg_dir()).await.unwrap();
    let session = chromium(&server).await;
    let texts = json!(["first sentence", "second sentence", "third"]);
    let args = vec!["/models/all-minilm-l6-v2/".into(), "/models/smollm2-135m-instruct/".into(), texts, "The capital of France is".into()];
    let reply = session.call("reactHooks", args).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(reply["shape"], "3x384", "{reply}");
    let states: Vec<&str> = reply["states"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    for state in ["loading", "generating", "idle"] {
        assert!(states.contains(&state), "the hooks passed through {state}: {reply}");
    }
    assert_eq!(reply["tokens"], 6, "{reply}");
    assert!(!reply["generated"].as_str().unwrap_or_default().is_empty(), "{reply}");
    assert_eq!(reply["partialFinish"], "cancelled", "{reply}");
    let partial = reply["partialTokens"].as_u64().unwrap_or(0);
    assert!((1..200).contains(&partial), "stopped early: {reply}");
    assert_eq!(reply["stoppedTextMatches"], true, "the partial text stays on screen: {reply}");
    assert_eq!(reply["disposed"], true, "unmounting disposed the Accelerator: {reply}");
    session.close().await.ok();
}
