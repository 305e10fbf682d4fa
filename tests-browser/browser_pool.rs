//! The browser pool with real headless Chromium instances (two at once): requests spread over
//! sessions and match the reference; a browser killed mid-run (SIGKILL to its processes) loses
//! no request; a hung page is timed out, its browser replaced, and the request completes.
//! A session dropped without being closed (a failed test, a panic) leaves no browser behind.

use ipfs_accelerate_host::browser::{detect_all, BrowserKind, BrowserSession};
use ipfs_accelerate_host::paths::wasm_pkg_dir;
use ipfs_accelerate_host::pool::{BrowserPool, EmbedRequest, PoolConfig};
use ipfs_accelerate_host::server::RunnerServer;
use serde_json::Value;
use std::sync::atomic::Ordering;
use std::time::Duration;

const L6: &str = "/models/all-minilm-l6-v2/";
const REFERENCE: &str = include_str!("../sdk-wasm/tests/data/minilm_embeddings.json");

fn reference() -> (String, Vec<f32>) {
    let r: Value = serde_json::from_str(REFERENCE).unwrap_or_default();
    let s = &r["sentences"][0];
    let v = s["embedding"].as_array().map(|a| a.iter().filter_map(Value::as_f64).map(|x| x as f32).collect()).unwrap_or_default();
    (s["text"].as_str().unwrap_or_default().into(), v)
}

async fn pool(sessions: usize, call_timeout: Duration) -> (RunnerServer, BrowserPool) {
    let server = RunnerServer::start(wasm_pkg_dir()).await.unwrap_or_else(|e| panic!("{e}"));
    let config = PoolConfig { browsers: vec![BrowserKind::Chromium; sessions], call_timeout, ..PoolConfig::default() };
    let pool = BrowserPool::start(config, &server.url()).await.unwrap_or_else(|e| panic!("{e}"));
    (server, pool)
}

/// Run `count` requests at once; every one must complete with the reference embedding.
async fn run_all(pool: &BrowserPool, count: usize) -> Vec<usize> {
    let (text, want) = reference();
    let request = EmbedRequest::new(L6, vec![text]);
    let outcomes = futures_util::future::join_all((0..count).map(|_| pool.embed(&request))).await;
    outcomes
        .into_iter()
        .enumerate()
        .map(|(i, o)| {
            let o = o.unwrap_or_else(|e| panic!("request {i} was lost: {e}"));
            let cos: f32 = o.embeddings[0].iter().zip(&want).map(|(a, b)| a * b).sum();
            assert!(cos >= 0.9999, "request {i}: cosine {cos}");
            o.slot
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_chromium_sessions_share_the_requests_and_match_the_reference() {
    let (_server, pool) = pool(2, Duration::from_secs(60)).await;
    let served_by = run_all(&pool, 10).await;
    assert!(served_by.contains(&0) && served_by.contains(&1), "both sessions took work: {served_by:?}");
    pool.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_browser_killed_mid_run_loses_no_request() {
    let (_server, pool) = pool(2, Duration::from_secs(60)).await;
    run_all(&pool, 2).await; // both pages have the model loaded
    let run = run_all(&pool, 16);
    let kill = async {
        while pool.slots()[0].served.load(Ordering::SeqCst) < 3 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        pool.kill_browser(0).await
    };
    let (served_by, killed) = tokio::join!(run, kill);
    assert!(killed > 0, "the browser's processes were found and killed");
    assert_eq!(served_by.len(), 16);
    let slot = &pool.slots()[0];
    // The restart runs in the background; give it time to finish, then it serves again.
    for _ in 0..300 {
        if slot.health().restarts > 0 && slot.health().available() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(slot.health().restarts >= 1 && slot.health().failures >= 1, "{:?}", slot.health());
    run_all(&pool, 4).await;
    pool.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hung_page_is_timed_out_its_browser_replaced_and_the_request_completes() {
    let (_server, pool) = pool(2, Duration::from_secs(20)).await;
    run_all(&pool, 2).await;
    pool.slots()[0].call("poolStallNext", vec![600_000.into()], Duration::from_secs(10)).await.unwrap_or_else(|e| panic!("{e}"));
    pool.slots()[1].call("poolStallNext", vec![0.into()], Duration::from_secs(10)).await.unwrap_or_else(|e| panic!("{e}"));
    let served_by = run_all(&pool, 4).await;
    assert_eq!(served_by.len(), 4);
    let slot = &pool.slots()[0];
    assert!(slot.health().failures >= 1, "the hung session was noticed: {:?}", slot.health());
    for _ in 0..300 {
        if slot.health().restarts > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(slot.health().restarts >= 1, "and replaced: {:?}", slot.health());
    pool.shutdown().await;
}

/// The CLI end to end: a pool run with two browser kills stores every completed request.
#[test]
fn accelerate_pool_with_kills_stores_every_completed_request_in_duckdb() {
    let db = std::env::temp_dir().join(format!("ipfs-accelerate-pool-{}.duckdb", std::process::id()));
    let _ = std::fs::remove_file(&db);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_accelerate"))
        .args(["pool", "--requests", "8", "--kill-every", "4", "--db"])
        .arg(&db)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let line = stdout.lines().find(|l| l.contains("requests completed")).unwrap_or_else(|| panic!("{stdout}"));
    let (done, total) = line.split_whitespace().next().and_then(|f| f.split_once('/')).unwrap_or_else(|| panic!("{line}"));
    assert_eq!(done, total, "no request lost: {line}");
    assert!(line.contains("2 kills"), "{line}");
    let store = ipfs_accelerate_host::store::Store::open(&db).unwrap_or_else(|e| panic!("{e}"));
    let run = store.run(None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(store.sample_count(&run.run_id).ok(), done.parse::<i64>().ok(), "one stored latency per completed request");
    let _ = std::fs::remove_file(&db);
}

/// Firefox outlived its killed geckodriver: a session dropped unclosed used to leave it running.
#[tokio::test(flavor = "multi_thread")]
async fn a_firefox_session_dropped_unclosed_leaves_no_browser_process() {
    let server = RunnerServer::start(wasm_pkg_dir()).await.unwrap_or_else(|e| panic!("{e}"));
    let install = detect_all().into_iter().find(|d| d.kind == BrowserKind::Firefox).and_then(|d| d.install.ok());
    let session =
        BrowserSession::launch(&install.unwrap_or_else(|| panic!("Firefox")), &server.url()).await.unwrap_or_else(|e| panic!("{e}"));
    let pids = session.browser_pids();
    assert!(!pids.is_empty(), "the live browser's processes are found by their profile");
    drop(session);
    let alive = |pid: &u32| {
        // A zombie waiting for its parent to reap it has stopped running.
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|stat| stat.rsplit(')').next().is_some_and(|s| !s.trim_start().starts_with('Z')))
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while pids.iter().any(alive) && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let left: Vec<&u32> = pids.iter().filter(|p| alive(p)).collect();
    assert!(left.is_empty(), "browser processes still running after the session was dropped: {left:?}");
}
