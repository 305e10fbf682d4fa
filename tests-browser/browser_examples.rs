//! The example apps, built from the packed npm tarball by Vite (`cargo xtask build-examples`),
//! used in headless Chromium and Firefox as a person would: typing, clicking, reading the page.
//! Each app runs once cross-origin isolated (the threaded build) and once not (one thread).

use ipfs_accelerate_host::apps::{use_chat, use_semantic_search};
use ipfs_accelerate_host::browser::{detect, BrowserKind, BrowserSession};
use ipfs_accelerate_host::paths::wasm_pkg_dir;
use ipfs_accelerate_host::server::RunnerServer;
use serde_json::Value;

const RANKING: &str = include_str!("../sdk-wasm/tests/data/semantic_search_ranking.json");
const LLM_REFERENCE: &str = include_str!("../sdk-wasm/tests/data/smollm2_greedy.json");

async fn open(kind: BrowserKind) -> (RunnerServer, BrowserSession) {
    let server = RunnerServer::start(wasm_pkg_dir()).await.unwrap();
    let install = detect(kind).unwrap_or_else(|e| panic!("{}: {e}", kind.name()));
    let session = BrowserSession::launch(&install, &server.url()).await.unwrap();
    (server, session)
}

fn app_url(server: &RunnerServer, app: &str, model: &str, isolated: bool) -> String {
    let isolation = if isolated { "" } else { "&isolation=off" };
    format!("{}apps/{app}/?model={model}&device=cpu{isolation}", server.base_url())
}

async fn semantic_search(kind: BrowserKind, isolated: bool) {
    let ranking: Value = serde_json::from_str(RANKING).unwrap();
    let case = &ranking["queries"][0];
    let want: Vec<&str> = case["top"].as_array().unwrap().iter().map(|t| t["text"].as_str().unwrap()).take(3).collect();
    let (server, session) = open(kind).await;
    let url = app_url(&server, "semantic-search", "/models/all-minilm-l6-v2/", isolated);
    let visits = use_semantic_search(&session, &url, case["query"].as_str().unwrap(), None).await;
    session.close().await.unwrap();
    let [first, second] = visits.unwrap_or_else(|e| panic!("{}: {e}", kind.name()));

    assert_eq!(first.origin, "network", "{first:?}");
    assert!(first.network_bytes > 80_000_000, "the first visit downloads the weights: {first:?}");
    assert_eq!(second.origin, "indexeddb", "{second:?}");
    assert_eq!(second.network_bytes, 0, "the second visit reads IndexedDB: {second:?}");
    assert!(second.status.contains("from IndexedDB"), "the page says where the model came from: {second:?}");
    for visit in [&first, &second] {
        // The numpy float64 reference's best three, in its order (≥ 0.007 apart, far beyond f32 error).
        assert_eq!(&visit.results[..3], &want[..], "{visit:?}");
        assert_eq!(visit.build.starts_with("threads"), isolated, "isolated pages run the threaded build: {visit:?}");
        // The start-up the page measures: engine start, then the load, within the time to a searchable page.
        assert!(visit.create_ms > 0.0 && visit.load_ms > 0.0 && visit.ready_ms > visit.create_ms + visit.load_ms, "{visit:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn semantic_search_in_chromium_isolated_finds_the_reference_sentences_and_reads_indexeddb_on_the_second_visit() {
    semantic_search(BrowserKind::Chromium, true).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn semantic_search_in_firefox_without_isolation_finds_the_reference_sentences_and_reads_indexeddb_on_the_second_visit() {
    semantic_search(BrowserKind::Firefox, false).await;
}

async fn chat(kind: BrowserKind, isolated: bool) {
    let reference: Value = serde_json::from_str(LLM_REFERENCE).unwrap();
    // The numpy reference's greedy reply to this question, through the model's chat template.
    let want = reference["greedy"][1]["continuation"].as_str().unwrap().trim();
    let (server, session) = open(kind).await;
    let url = app_url(&server, "chat-react", "/models/smollm2-135m-instruct/", isolated);
    let visit =
        use_chat(&session, &url, "What is the capital of France?", "Write a long story about a dragon who learns to bake bread.", None)
            .await;
    session.close().await.unwrap();
    let visit = visit.unwrap_or_else(|e| panic!("{}: {e}", kind.name()));

    assert_eq!(visit.temperature, "0.0", "Home on the slider sets temperature 0: {visit:?}");
    assert_eq!(visit.reply, want, "{visit:?}");
    assert_eq!(visit.finish, "eos", "{visit:?}");
    // Streamed: the reply grew piece by piece, each text a prefix of the next.
    let pieces: Vec<&String> = visit.streamed.iter().filter(|t| t.as_str() != "…").collect();
    assert!(pieces.len() >= 3, "the reply arrived in at least three pieces: {visit:?}");
    assert!(pieces.windows(2).all(|w| w[1].starts_with(w[0].as_str()) && w[1].len() > w[0].len()), "{visit:?}");
    assert!(want.starts_with(pieces[pieces.len() - 1].trim()), "{visit:?}");
    // Stopped mid-reply: the words so far stay, marked as cancelled.
    assert_eq!(visit.stopped_finish, "cancelled", "{visit:?}");
    assert!(visit.stopped_reply.split_whitespace().count() >= 3, "{visit:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn chat_in_chromium_without_isolation_streams_the_reference_reply_and_stops_on_request() {
    chat(BrowserKind::Chromium, false).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn chat_in_firefox_isolated_streams_the_reference_reply_and_stops_on_request() {
    chat(BrowserKind::Firefox, true).await;
}
