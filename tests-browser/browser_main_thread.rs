//! The page's main thread stays free: with the engine in its Worker, no main-thread task longer
//! than 50 ms (Chromium's Long Tasks API, a `PerformanceObserver`) while MiniLM loads from the
//! network and embeds, or while SmolLM2 loads and generates. Firefox has no long-task entries.

use ipfs_accelerate_host::browser::{detect_all, BrowserKind, BrowserSession};
use ipfs_accelerate_host::paths::wasm_pkg_dir;
use ipfs_accelerate_host::server::RunnerServer;
use serde_json::Value;

async fn long_tasks(method: &str, args: Vec<Value>) -> Value {
    let server = RunnerServer::start(wasm_pkg_dir()).await.unwrap();
    let install = detect_all().into_iter().find(|d| d.kind == BrowserKind::Chromium).and_then(|d| d.install.ok()).expect("chromium");
    let session = BrowserSession::launch(&install, &server.url()).await.unwrap();
    let reply = session.call(method, args).await.unwrap_or_else(|e| panic!("{method}: {e}"));
    session.close().await.unwrap();
    assert_eq!(reply["supported"], true, "Chromium reports long tasks: {reply}");
    reply
}

/// The observer really sees a long task: an 80 ms busy loop on the main thread is reported.
#[tokio::test(flavor = "multi_thread")]
async fn a_busy_main_thread_is_reported() {
    let reply = long_tasks("longTasksDuringBusyLoop", vec![80.into()]).await;
    let longest = reply["tasks"].as_array().into_iter().flatten().filter_map(|t| t["ms"].as_f64()).fold(0.0, f64::max);
    assert!(longest >= 80.0, "{reply}");
}

#[tokio::test(flavor = "multi_thread")]
async fn no_long_main_thread_task_while_minilm_loads_and_embeds() {
    let texts: Vec<Value> = (0..8).map(|i| Value::from(format!("sentence number {i} about the main thread staying free"))).collect();
    let reply = long_tasks("longTasksDuringEmbed", vec!["/models/all-minilm-l6-v2/".into(), Value::Array(texts)]).await;
    assert_eq!(reply["result"], 384, "{reply}");
    assert_eq!(reply["tasks"], Value::Array(vec![]), "main-thread tasks over 50 ms: {reply}");
}

#[tokio::test(flavor = "multi_thread")]
async fn no_long_main_thread_task_while_smollm2_loads_and_generates() {
    let reply =
        long_tasks("longTasksDuringGenerate", vec!["/models/smollm2-135m-instruct/".into(), "The capital of France is".into(), 8.into()])
            .await;
    assert_eq!(reply["result"], 8, "{reply}");
    assert_eq!(reply["tasks"], Value::Array(vec![]), "main-thread tasks over 50 ms: {reply}");
}
