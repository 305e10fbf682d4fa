//! all-MiniLM-L6-v2 split over two headless Chromium instances (layers 0..3 and 3..6), the
//! activations passed through the host over loopback WebSockets: the same embeddings as the
//! whole model (and the numpy reference); and a stage's browser killed mid-request is
//! relaunched and the request completes with the same output; a stream of requests runs
//! through both stages at once (pipelined), each answer its own, even with a stage dead.

use ipfs_accelerate_host::browser::{detect_all, kill_processes, BrowserKind};
use ipfs_accelerate_host::paths::wasm_pkg_dir;
use ipfs_accelerate_host::server::RunnerServer;
use ipfs_accelerate_host::shard::{balanced, ShardedModel};
use serde_json::Value;
use std::time::Duration;

const L6: &str = "/models/all-minilm-l6-v2/";
const REFERENCE: &str = include_str!("../sdk-wasm/tests/data/minilm_embeddings.json");

fn reference(count: usize) -> Vec<(String, Vec<f32>)> {
    let r: Value = serde_json::from_str(REFERENCE).unwrap_or_default();
    r["sentences"]
        .as_array()
        .into_iter()
        .flatten()
        .take(count)
        .map(|s| {
            let v = s["embedding"].as_array().map(|a| a.iter().filter_map(Value::as_f64).map(|x| x as f32).collect()).unwrap_or_default();
            (s["text"].as_str().unwrap_or_default().to_string(), v)
        })
        .collect()
}

async fn sharded() -> (RunnerServer, ShardedModel) {
    let server = RunnerServer::start(wasm_pkg_dir()).await.unwrap_or_else(|e| panic!("{e}"));
    let install = detect_all()
        .into_iter()
        .find(|d| d.kind == BrowserKind::Chromium)
        .and_then(|d| d.install.ok())
        .unwrap_or_else(|| panic!("chromium"));
    let plan = balanced(&[1.0; 6], 2);
    assert_eq!(plan, [0..3, 3..6]);
    let max_tokens = serde_json::from_str::<Value>(REFERENCE).ok().and_then(|r| r["max_tokens"].as_u64()).map(|m| m as usize);
    let model = ShardedModel::start(&server, &install, L6, max_tokens, plan).await.unwrap_or_else(|e| panic!("{e}"));
    (server, model)
}

fn assert_reference(got: &[Vec<f32>], want: &[(String, Vec<f32>)]) {
    assert_eq!(got.len(), want.len());
    for (i, (g, (text, w))) in got.iter().zip(want).enumerate() {
        let cos: f32 = g.iter().zip(w).map(|(a, b)| a * b).sum();
        assert!(cos >= 0.9999, "text {i} {text:?}: cosine {cos}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_chromium_shards_give_the_whole_models_embeddings() {
    let (_server, mut model) = sharded().await;
    let want = reference(8);
    let texts: Vec<String> = want.iter().map(|(t, _)| t.clone()).collect();
    let run = model.embed(&texts).await.unwrap_or_else(|e| panic!("{e}"));
    assert_reference(&run.embeddings, &want);
    assert!(run.recoveries_ms.is_empty());
    model.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_shard_killed_mid_request_is_relaunched_and_the_request_completes() {
    let (_server, mut model) = sharded().await;
    let want = reference(8);
    let texts: Vec<String> = want.iter().map(|(t, _)| t.clone()).collect();
    model.embed(&texts).await.unwrap_or_else(|e| panic!("{e}"));
    let victim = model.stage_pids(1);
    assert!(!victim.is_empty(), "stage 1's browser processes are known");
    let killer = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        kill_processes(&victim);
    });
    let run = model.embed(&texts).await.unwrap_or_else(|e| panic!("the request must survive the kill: {e}"));
    let _ = killer.await;
    assert_eq!(run.recoveries_ms.len(), 1, "stage 1 was relaunched once");
    assert_reference(&run.embeddings, &want);
    model.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stream_through_the_stages_matches_the_reference_and_survives_a_dead_stage() {
    let (_server, mut model) = sharded().await;
    let want = reference(8);
    // Six requests of differing sizes, in flight together: each answer must be its own.
    let requests: Vec<Vec<String>> = (1..=6).map(|n| want.iter().take(n).map(|(t, _)| t.clone()).collect()).collect();
    let runs = model.embed_stream(&requests).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(runs.len(), requests.len());
    for (n, run) in runs.iter().enumerate() {
        let run = run.as_ref().unwrap_or_else(|e| panic!("request {n}: {e}"));
        assert_reference(&run.embeddings, &want[..n + 1]);
    }
    // Latency counts from submission to that request's own answer: the last waited longest.
    let latency = |n: usize| runs[n].as_ref().map(|r| r.latency_ms).unwrap_or_default();
    assert!(latency(0) < latency(5), "{} vs {}", latency(0), latency(5));
    // Stage 1's browser is dead when the stream starts: what it cannot serve is run again
    // through the one-request path, which relaunches it; no request is lost.
    kill_processes(&model.stage_pids(1));
    let runs = model.embed_stream(&requests).await.unwrap_or_else(|e| panic!("{e}"));
    for (n, run) in runs.iter().enumerate() {
        let run = run.as_ref().unwrap_or_else(|e| panic!("request {n} was lost: {e}"));
        assert_reference(&run.embeddings, &want[..n + 1]);
    }
    assert!(runs.iter().flatten().any(|r| !r.recoveries_ms.is_empty()), "the killed stage was relaunched");
    model.shutdown().await;
}
