//! Weights by content id in the real IndexedDB of headless Chromium and Firefox, through the
//! npm package's public API, with the host's real HTTP server (whose request log shows what
//! went over the network): second loads from IndexedDB, a corrupted chunk repaired, a hash
//! mismatch rejected, an interrupted download resumed with a range request, LRU eviction
//! under a cache budget, loading by CID from the local IPFS gateway route, and shared-tensor
//! memory accounting with GPU buffers freed on dispose.

use ipfs_accelerate_host::browser::{detect_all, BrowserKind, BrowserSession};
use ipfs_accelerate_host::paths::wasm_pkg_dir;
use ipfs_accelerate_host::server::RunnerServer;
use serde_json::{json, Value};

const L6: &str = "/models/all-minilm-l6-v2/";
const L6_WEIGHTS: &str = "/models/all-minilm-l6-v2/model.safetensors";
const L3: &str = "/models/paraphrase-minilm-l3-v2/";
const L3_WEIGHTS: &str = "paraphrase-MiniLM-L3-v2.onnx";
const REFERENCE: &str = include_str!("../sdk-wasm/tests/data/minilm_embeddings.json");
const CHUNK: u64 = 4 << 20;

async fn launch(kind: BrowserKind) -> (RunnerServer, BrowserSession) {
    let server = RunnerServer::start(wasm_pkg_dir()).await.unwrap_or_else(|e| panic!("{e}"));
    let install = detect_all().into_iter().find(|d| d.kind == kind).and_then(|d| d.install.ok()).unwrap_or_else(|| panic!("{kind:?}"));
    let session = BrowserSession::launch(&install, &server.url()).await.unwrap_or_else(|e| panic!("{e}"));
    (server, session)
}

async fn call(session: &BrowserSession, method: &str, args: Vec<Value>) -> Value {
    session.call(method, args).await.unwrap_or_else(|e| panic!("{method}: {e}"))
}

/// Requests for `path` served since request number `since`: (range, status).
fn served(server: &RunnerServer, since: usize, path: &str) -> Vec<(Option<String>, u16)> {
    server.requests().into_iter().skip(since).filter(|r| r.path == path).map(|r| (r.range, r.status)).collect()
}

fn first_reference() -> (String, Vec<f64>) {
    let r: Value = serde_json::from_str(REFERENCE).unwrap_or_default();
    let s = &r["sentences"][0];
    (
        s["text"].as_str().unwrap_or_default().into(),
        s["embedding"].as_array().map(|a| a.iter().filter_map(Value::as_f64).collect()).unwrap_or_default(),
    )
}

fn assert_matches_reference(reply: &Value, want: &[f64]) {
    let got: Vec<f64> = reply["embeddings"][0].as_array().map(|a| a.iter().filter_map(Value::as_f64).collect()).unwrap_or_default();
    let cos: f64 = got.iter().zip(want).map(|(a, b)| a * b).sum();
    assert!(cos >= 0.9999, "cosine {cos} against the reference");
}

fn origin<'a>(reply: &'a Value, file: &str) -> &'a str {
    reply["report"]["files"][file].as_str().unwrap_or_else(|| panic!("no origin for {file}: {reply}"))
}

/// Load L6 twice (second from IndexedDB, no weight request), then damage a stored chunk and
/// load again: detected, fetched again, and the repaired copy serves the next load.
async fn second_load_and_repair(kind: BrowserKind) {
    let (server, session) = launch(kind).await;
    let (text, want) = first_reference();
    let first = call(&session, "cacheLoad", vec![L6.into(), json!({ "texts": [text] })]).await;
    assert_eq!(first.get("error"), None, "{first}");
    assert_eq!(origin(&first, "model.safetensors"), "network");
    assert_matches_reference(&first, &want);
    assert_eq!(served(&server, 0, L6_WEIGHTS), [(None, 200)]);
    let listed = &first["cache"]["list"];
    assert_eq!(listed[0]["name"], "all-minilm-l6-v2", "{listed}");

    let mark = server.requests().len();
    let second = call(&session, "cacheLoad", vec![L6.into(), json!({ "texts": [text] })]).await;
    assert!(["config.json", "tokenizer.json", "model.safetensors"].iter().all(|f| origin(&second, f) == "cache"), "{second}");
    assert_eq!(second["report"]["networkBytes"], 0);
    assert_eq!(second["report"]["tensorIdsRemembered"], true, "the first load's tensor ids spare hashing: {}", second["report"]);
    // Stored chunks are checked against the checksums taken when the download passed its CID.
    assert_eq!(second["report"]["storedChecks"]["model.safetensors"], "chunk-sums", "{}", second["report"]);
    assert_eq!(first["report"].get("storedChecks"), None, "a download is checked against its CID: {}", first["report"]);
    // Every load scans the weights for NaN and infinity, and says what that cost.
    let (scan, build) = (second["report"]["finiteScanMs"].as_f64(), second["report"]["buildMs"].as_f64());
    assert!(matches!((scan, build), (Some(s), Some(b)) if s >= 0.0 && s <= b), "{}", second["report"]);
    assert_eq!(served(&server, mark, L6_WEIGHTS), [], "the second load must not fetch the weights");
    assert_matches_reference(&second, &want);
    eprintln!(
        "{kind:?}: network load {:.0} ms {}, IndexedDB load {:.0} ms {}",
        first["loadMs"].as_f64().unwrap_or(-1.0),
        first["report"]["timings"],
        second["loadMs"].as_f64().unwrap_or(-1.0),
        second["report"]["timings"]
    );

    let weights_cid =
        listed[0]["files"].as_array().and_then(|f| f.iter().find(|f| f["path"] == "model.safetensors")).map(|f| f["cid"].clone());
    let weights_cid = weights_cid.unwrap_or_else(|| panic!("weights not listed: {listed}"));
    call(&session, "corruptChunk", vec![weights_cid, 3.into()]).await;
    let mark = server.requests().len();
    let repaired = call(&session, "cacheLoad", vec![L6.into(), json!({ "texts": [text] })]).await;
    assert_eq!(origin(&repaired, "model.safetensors"), "refetched", "{repaired}");
    assert_eq!(served(&server, mark, L6_WEIGHTS), [(None, 200)]);
    assert_matches_reference(&repaired, &want);
    let mark = server.requests().len();
    let after = call(&session, "cacheLoad", vec![L6.into(), json!({})]).await;
    assert_eq!(origin(&after, "model.safetensors"), "cache");
    assert_eq!(
        after["report"]["storedChecks"]["model.safetensors"], "chunk-sums",
        "the repaired copy has its checksums: {}",
        after["report"]
    );
    assert_eq!(served(&server, mark, L6_WEIGHTS), []);
    let _ = session.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn chromium_second_load_reads_indexeddb_and_a_corrupted_chunk_is_fetched_again() {
    second_load_and_repair(BrowserKind::Chromium).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn firefox_second_load_reads_indexeddb_and_a_corrupted_chunk_is_fetched_again() {
    second_load_and_repair(BrowserKind::Firefox).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn chromium_rejects_a_hash_mismatch_caches_nothing_and_loads_by_cid_from_a_gateway() {
    let (server, session) = launch(BrowserKind::Chromium).await;
    let bad = call(&session, "cacheLoad", vec![L6.into(), json!({ "tamper": "model.safetensors" })]).await;
    let message = bad["error"].as_str().unwrap_or_else(|| panic!("a wrong CID must be rejected: {bad}"));
    assert!(message.contains("model.safetensors") && message.contains("does not match"), "{message}");
    assert_eq!(bad["cache"]["list"], json!([]), "no model record: {bad}");
    let usage = &bad["cache"]["usage"];
    assert!(usage["bytes"].as_u64().unwrap_or(u64::MAX) < 1 << 20, "the 90 MB weights were not kept: {usage}");

    // The same model by CID from the server's /ipfs/ route, as from any IPFS gateway.
    let (text, want) = first_reference();
    let mark = server.requests().len();
    let by_cid = call(&session, "cacheLoad", vec![L6.into(), json!({ "gateway": "/ipfs/", "texts": [text] })]).await;
    assert_eq!(by_cid.get("error"), None, "{by_cid}");
    assert_matches_reference(&by_cid, &want);
    // config.json and tokenizer.json were verified and stored by the rejected load (files are
    // cached by CID, whatever model lists them); the weights come by CID from the gateway.
    assert_eq!((origin(&by_cid, "config.json"), origin(&by_cid, "model.safetensors")), ("cache", "network"));
    let paths: Vec<String> = server.requests().into_iter().skip(mark).map(|r| r.path).collect();
    let weights_cid = by_cid["cache"]["list"][0]["files"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["path"] == "model.safetensors"))
        .map(|f| f["cid"].as_str().unwrap_or_default().to_string())
        .unwrap_or_default();
    assert!(paths.contains(&format!("/ipfs/{weights_cid}")), "{paths:?}");
    assert!(!paths.iter().any(|p| p == L6_WEIGHTS), "{paths:?}");
    let _ = session.close().await;
}

/// Load L6 after an interrupted download: it must resume, embed correctly, and say from which
/// byte it asked the server (with the weight requests it made).
async fn load_resumed(server: &RunnerServer, session: &BrowserSession) -> (Value, u64, Vec<(Option<String>, u16)>) {
    let (text, want) = first_reference();
    let mark = server.requests().len();
    let resumed = call(session, "cacheLoad", vec![L6.into(), json!({ "texts": [text] })]).await;
    assert_eq!(origin(&resumed, "model.safetensors"), "resumed", "{resumed}");
    assert_matches_reference(&resumed, &want);
    let requests = served(server, mark, L6_WEIGHTS);
    let from =
        requests.first().and_then(|(range, _)| range.as_deref()?.strip_prefix("bytes=")?.strip_suffix('-')?.parse().ok()).unwrap_or(0);
    (resumed, from, requests)
}

#[tokio::test(flavor = "multi_thread")]
async fn chromium_resumes_an_interrupted_download_with_a_range_request() {
    let (server, session) = launch(BrowserKind::Chromium).await;
    let cut = call(&session, "cacheLoad", vec![L6.into(), json!({ "abortAfterBytes": 40 << 20 })]).await;
    assert!(cut["error"].as_str().is_some_and(|e| e.to_lowercase().contains("abort")), "{cut}");
    let partial = cut["cache"]["usage"]["partialBytes"].as_u64().unwrap_or(0);
    assert!(partial >= 36 << 20, "whole chunks up to the abort are kept: {}", cut["cache"]["usage"]);

    let (resumed, from, requests) = load_resumed(&server, &session).await;
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!((requests[0].1, from % CHUNK), (206, 0), "{requests:?}");
    assert!(from >= partial, "resumed at {from}, had {partial}");
    assert_eq!(resumed["report"]["networkBytes"].as_u64(), Some(90_868_376 - from), "only the missing tail came over the network");
    let _ = session.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn chromium_a_page_reload_mid_download_continues_where_it_stopped() {
    let (server, session) = launch(BrowserKind::Chromium).await;
    let before = call(&session, "pageId", vec![]).await;
    let started = call(&session, "reloadDuringLoad", vec![L6.into(), (30u64 << 20).into()]).await;
    assert!(started["reloadingAt"].as_u64().unwrap_or(0) >= 30 << 20, "{started}");
    // The reload follows the reply by a moment: a call sent in between would die with the old
    // page (on a loaded machine it did). Wait until the page is the new one.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while session.call("pageId", vec![]).await.ok().is_none_or(|id| id == before) {
        assert!(std::time::Instant::now() < deadline, "the page never reloaded");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // The reloaded page's load finds the chunks the first one stored.
    let (resumed, from, requests) = load_resumed(&server, &session).await;
    assert!(from >= 24 << 20 && from.is_multiple_of(CHUNK), "resumed from byte {from}: {requests:?}");
    assert_eq!(resumed["report"]["networkBytes"].as_u64(), Some(90_868_376 - from));
    let _ = session.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn chromium_evicts_the_least_recently_used_model_under_a_cache_budget() {
    let (_server, session) = launch(BrowserKind::Chromium).await;
    // Room for either model, not both (L6 ≈ 91.6 MB, L3 ≈ 69.8 MB).
    let cache = json!({ "name": "budget-test", "maxBytes": 150_000_000u64 });
    let l6 = call(&session, "cacheLoad", vec![L6.into(), json!({ "cache": cache })]).await;
    assert_eq!(origin(&l6, "model.safetensors"), "network");
    let l3 = call(&session, "cacheLoad", vec![L3.into(), json!({ "cache": cache, "weights": L3_WEIGHTS })]).await;
    assert_eq!(l3.get("error"), None, "{l3}");
    let names: Vec<&str> =
        l3["cache"]["list"].as_array().map(|l| l.iter().filter_map(|m| m["name"].as_str()).collect()).unwrap_or_default();
    assert_eq!(names, ["paraphrase-minilm-l3-v2"], "L6, least recently used, was evicted");
    assert!(l3["cache"]["usage"]["bytes"].as_u64().unwrap_or(u64::MAX) <= 150_000_000);

    // A model in use is never evicted: with L3 loaded, L6 loads but is not stored.
    call(&session, "cacheLoad", vec![L3.into(), json!({ "cache": cache, "weights": L3_WEIGHTS, "keep": true })]).await;
    let l6_again = call(&session, "cacheLoad", vec![L6.into(), json!({ "cache": cache })]).await;
    assert_eq!(origin(&l6_again, "model.safetensors"), "uncached", "{l6_again}");
    let names: Vec<&str> =
        l6_again["cache"]["list"].as_array().map(|l| l.iter().filter_map(|m| m["name"].as_str()).collect()).unwrap_or_default();
    assert_eq!(names, ["paraphrase-minilm-l3-v2"]);
    call(&session, "releaseKept", vec![]).await;
    let persisted = call(&session, "persistCache", vec![]).await;
    assert!(persisted.is_boolean(), "persist() resolves to whether the browser agreed: {persisted}");
    let _ = session.close().await;
}

async fn shared_memory(prefer: &str) -> Value {
    let (_server, session) = launch(BrowserKind::Chromium).await;
    let reply = call(&session, "sharedMemory", vec![L6.into(), json!({ "prefer": [prefer] })]).await;
    let _ = session.close().await;
    let total = |k: &str| reply[k]["totalBytes"].as_f64().unwrap_or(f64::NAN);
    let ratio = total("two") / total("one");
    eprintln!("{prefer}: one model {} B, two sharing {} B ({ratio:.3}×)", total("one"), total("two"));
    assert!(total("one") > 80e6, "{}", reply["one"]);
    assert!(ratio <= 1.1, "two models sharing an encoder must stay within 1.1× one: {ratio}");
    let models = &reply["two"]["models"];
    assert_eq!(models[1]["bytes"], models[1]["sharedBytes"], "all of the second model is shared: {models}");
    assert_eq!(reply["afterFirst"]["totalBytes"], reply["one"]["totalBytes"], "the survivor keeps the weights");
    assert_eq!(reply["afterBoth"]["totalBytes"], 0, "{}", reply["afterBoth"]);
    let dot: f64 = reply["mean"]
        .as_array()
        .into_iter()
        .flatten()
        .zip(reply["cls"].as_array().into_iter().flatten())
        .map(|(a, b)| a.as_f64().unwrap_or(0.0) * b.as_f64().unwrap_or(0.0))
        .sum();
    assert!(dot < 0.999, "the two heads pool differently");
    reply
}

#[tokio::test(flavor = "multi_thread")]
async fn chromium_cpu_shared_tensors_are_held_once_and_freed_on_dispose() {
    shared_memory("cpu").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn chromium_webgpu_shared_tensors_are_held_once_and_gpu_buffers_freed_on_dispose() {
    let reply = shared_memory("webgpu").await;
    assert_eq!(reply["device"], "webgpu");
    let pool = &reply["afterBoth"]["gpuPool"];
    assert_eq!(pool["inUseBytes"], 0, "every buffer is back in our allocator: {pool}");
    assert_eq!(pool["allocatedBytes"], 0, "and dispose trimmed them: {pool}");
    assert!(reply["two"]["gpuPool"]["allocatedBytes"].as_u64().unwrap_or(0) > 80_000_000, "{}", reply["two"]);
}

/// A hub id (`org/name`) resolved against `env.remoteHost` (the server's hub layout, which has
/// no manifest.json): the first load is trusted on first use (ids computed, files cached, the
/// report says so); the second reads IndexedDB, verified against those ids.
#[tokio::test(flavor = "multi_thread")]
async fn chromium_a_hub_id_without_a_manifest_is_trusted_on_first_use_then_verified_from_the_cache() {
    let (server, session) = launch(BrowserKind::Chromium).await;
    let (text, want) = first_reference();
    let id = "sentence-transformers/all-MiniLM-L6-v2";
    let options = json!({ "texts": [text], "remoteHost": "/hub" });
    let since = server.requests().len();
    let first = call(&session, "cacheLoad", vec![id.into(), options.clone()]).await;
    assert!(first["error"].is_null(), "{first}");
    assert_matches_reference(&first, &want);
    let report = &first["report"];
    assert_eq!((report["trust"].as_str(), report["verified"].as_bool()), (Some("first-use"), Some(false)), "{report}");
    assert!(report["networkBytes"].as_u64().unwrap_or(0) > 80 << 20, "{report}");
    let base = "/hub/sentence-transformers/all-MiniLM-L6-v2/resolve/main/";
    assert_eq!(served(&server, since, &format!("{base}manifest.json")).iter().map(|r| r.1).collect::<Vec<_>>(), [404]);
    assert_eq!(served(&server, since, &format!("{base}model.safetensors")).len(), 1);

    let since = server.requests().len();
    let second = call(&session, "cacheLoad", vec![id.into(), options]).await;
    assert_matches_reference(&second, &want);
    let report = &second["report"];
    assert_eq!((report["trust"].as_str(), report["verified"].as_bool()), (Some("first-use"), Some(true)), "{report}");
    assert_eq!(report["networkBytes"].as_u64(), Some(0), "{report}");
    assert_eq!(origin(&second, "model.safetensors"), "cache");
    assert!(served(&server, since, &format!("{base}model.safetensors")).is_empty(), "no weight request on the second load");
    session.close().await.ok();
}
