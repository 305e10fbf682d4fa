//! all-MiniLM-L6-v2 split over two headless Chromium instances (layers 0..3 and 3..6), each
//! loading only its layers' weights, the activations passed through the host over loopback
//! WebSockets: the same embeddings as the whole model (and the numpy reference); and a stage's
//! browser killed mid-request is relaunched and the request completes with the same output; a
//! stream of requests runs through both stages at once (pipelined), each answer its own, even
//! with a stage dead; under a per-stage weight budget the whole model does not fit, the stages
//! that do fit hold only their parts (fetched bytes and memory checked).

use ipfs_accelerate_host::browser::BrowserInstall;
use ipfs_accelerate_host::browser::{detect_all, kill_processes, BrowserKind};
use ipfs_accelerate_host::paths::{model_cache, wasm_pkg_dir};
use ipfs_accelerate_host::server::RunnerServer;
use ipfs_accelerate_host::shard::{balanced, within_budget, PartSizes, ShardSpec, ShardedModel};
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

fn chromium() -> BrowserInstall {
    detect_all().into_iter().find(|d| d.kind == BrowserKind::Chromium).and_then(|d| d.install.ok()).unwrap_or_else(|| panic!("chromium"))
}

fn spec() -> ShardSpec {
    let max_tokens = serde_json::from_str::<Value>(REFERENCE).ok().and_then(|r| r["max_tokens"].as_u64()).map(|m| m as usize);
    ShardSpec { max_tokens, ..ShardSpec::new(L6) }
}

async fn sharded() -> (RunnerServer, ShardedModel) {
    let server = RunnerServer::start(wasm_pkg_dir()).await.unwrap_or_else(|e| panic!("{e}"));
    let plan = balanced(&[1.0; 6], 2);
    assert_eq!(plan, [0..3, 3..6]);
    let model = ShardedModel::start(&server, &chromium(), &spec(), plan).await.unwrap_or_else(|e| panic!("{e}"));
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

#[tokio::test(flavor = "multi_thread")]
async fn under_a_stage_budget_too_small_for_the_model_each_stage_holds_only_its_layers() {
    let server = RunnerServer::start(wasm_pkg_dir()).await.unwrap_or_else(|e| panic!("{e}"));
    let install = chromium();
    let sizes = PartSizes::of_dir(&model_cache().join("all-minilm-l6-v2")).unwrap_or_else(|e| panic!("{e}"));
    let budget: u64 = 56 << 20;
    assert!(sizes.total() > budget, "the whole model ({} bytes) must not fit one stage", sizes.total());
    let budgeted = ShardSpec { stage_budget: Some(budget), ..spec() };

    // The stage itself refuses a part over its budget (not only the planner), before fetching.
    let refused = ShardedModel::start(&server, &install, &budgeted, balanced(&[1.0; 6], 1)).await.err().map(|e| e.to_string());
    assert!(refused.as_deref().is_some_and(|e| e.contains("weight budget") && e.contains("56.0 MiB")), "{refused:?}");

    // One stage with no budget: the whole model's memory, for comparison.
    let whole = ShardedModel::start(&server, &install, &spec(), balanced(&[1.0; 6], 1)).await.unwrap_or_else(|e| panic!("{e}"));
    let whole_wasm = whole.stage_reports()[0].as_ref().map(|r| r.wasm_memory_bytes).unwrap_or_default();
    whole.shutdown().await;

    let plan = within_budget(&sizes, budget).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plan, [0..1, 1..6], "the embeddings nearly fill the first stage");
    let mut model = ShardedModel::start(&server, &install, &budgeted, plan.clone()).await.unwrap_or_else(|e| panic!("{e}"));
    for (layers, report) in plan.iter().zip(model.stage_reports()) {
        let r = report.unwrap_or_else(|| panic!("stage {layers:?} reported nothing"));
        let part = sizes.stage_bytes(layers) as f64;
        assert_eq!(r.part_bytes, part, "stage {layers:?} fetched exactly its tensors");
        // Beyond its tensors only config.json, tokenizer.json and the header came over the wire.
        assert!(r.network_bytes >= part && r.network_bytes < part + 1.5 * 1048576.0, "stage {layers:?}: {r:?}");
        assert!(r.held_bytes <= budget as f64 && r.held_bytes > 0.95 * part, "stage {layers:?} holds {r:?}");
        assert!(r.wasm_memory_bytes < whole_wasm, "stage {layers:?}: wasm memory {r:?} vs {whole_wasm} for the whole model");
    }
    let want = reference(8);
    let texts: Vec<String> = want.iter().map(|(t, _)| t.clone()).collect();
    let run = model.embed(&texts).await.unwrap_or_else(|e| panic!("{e}"));
    assert_reference(&run.embeddings, &want);
    model.shutdown().await;
}
