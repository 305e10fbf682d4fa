//! A bounded soak of the pool: a thousand embedding requests over a Chromium and a Firefox
//! session with a browser SIGKILLed after every 125 of them. No request is lost; the host
//! process's file descriptors and resident memory are flat from the warmed-up pool to the end
//! of the soak; after shutdown no browser process or profile directory is left and the
//! descriptors are back to where they were before the pool. Its own test binary, so the
//! process's figures are this test's alone.

use ipfs_accelerate_host::browser::BrowserKind;
use ipfs_accelerate_host::paths::wasm_pkg_dir;
use ipfs_accelerate_host::pool::{drive, BrowserPool, EmbedRequest, Faults, PoolConfig};
use ipfs_accelerate_host::server::RunnerServer;
use std::time::Duration;

#[path = "../host/tests/support/process_stats.rs"]
mod process_stats;
use process_stats::{open_fds, rss};

const REQUESTS: usize = 1000;
const KILL_EVERY: usize = 125;
/// Resident memory the soak may add to the warmed-up host (allocator caches; the completed
/// embeddings the report holds are 1.5 MB).
const MAX_RSS_GROWTH_BYTES: u64 = 64 << 20;

/// Processes whose command line names a profile of this test process, and those profiles.
fn leftovers() -> (Vec<u32>, Vec<String>) {
    let marker = format!("-{}-", std::process::id());
    let mine = |s: &str| s.starts_with("ipfs-accelerate-") && s.contains(&marker);
    let pids = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let cmdline = String::from_utf8_lossy(&std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default()).into_owned();
            cmdline.split(['\0', '=', '/']).any(mine)
        })
        .collect();
    let dirs = std::fs::read_dir(std::env::temp_dir())
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| mine(n))
        .collect();
    (pids, dirs)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thousand_requests_with_browsers_killed_leave_fds_memory_and_processes_flat() {
    let server = RunnerServer::start(wasm_pkg_dir()).await.unwrap_or_else(|e| panic!("{e}"));
    let fds_before_pool = open_fds();
    // Whatever already matches (a stale directory of an earlier process that had this pid)
    // is not this pool's to clean up.
    let (stale_pids, stale_dirs) = leftovers();
    let config = PoolConfig { browsers: vec![BrowserKind::Chromium, BrowserKind::Firefox], ..PoolConfig::default() };
    let pool = BrowserPool::start(config, &server.url()).await.unwrap_or_else(|e| panic!("{e}"));
    let request = EmbedRequest::new("/models/all-minilm-l6-v2/", vec!["a pool that runs for a long time".into()]);

    // Warm up: both pages load the model and serve; then the baseline.
    let warm = drive(&pool, &request, 20, 2, None).await;
    assert!(warm.failed.is_empty(), "{:?}", warm.failed);
    let (fds_warm, rss_warm) = (open_fds(), rss());

    let faults = Faults::every(KILL_EVERY, REQUESTS).unwrap();
    let report = drive(&pool, &request, REQUESTS, 2, Some(faults)).await;
    let (fds_after, growth) = (open_fds(), rss().saturating_sub(rss_warm));
    eprintln!(
        "{} requests in {:.1} s ({:.1}/s), {} kills, recoveries {:?} ms; fds {fds_before_pool} → {fds_warm} (warm) → {fds_after}; RSS +{:.1} MiB",
        report.completed.len(),
        report.wall_ms / 1e3,
        report.requests_per_second(),
        report.kills,
        report.recoveries_ms.iter().map(|ms| ms.round()).collect::<Vec<_>>(),
        growth as f64 / (1 << 20) as f64
    );
    assert!(report.failed.is_empty(), "requests lost: {:?}", report.failed);
    assert!(report.completed.len() >= REQUESTS);
    assert_eq!(report.kills, REQUESTS / KILL_EVERY);
    assert_eq!(report.recoveries_ms.len(), report.kills, "every killed browser came back");
    assert!(report.completed.iter().all(|o| o.embeddings.len() == 1 && o.embeddings[0].len() == 384));
    // The same sessions, replaced browsers: as many connections and pipes as when warm.
    assert!(fds_after <= fds_warm + 4, "file descriptors grew from {fds_warm} to {fds_after}");
    assert!(growth < MAX_RSS_GROWTH_BYTES, "resident memory grew {growth} bytes");

    pool.shutdown().await;
    drop(server);
    let new_leftovers = || {
        let (pids, dirs) = leftovers();
        (
            pids.into_iter().filter(|p| !stale_pids.contains(p)).collect::<Vec<_>>(),
            dirs.into_iter().filter(|d| !stale_dirs.contains(d)).collect::<Vec<_>>(),
        )
    };
    // Browsers may take a few seconds to exit after their sessions end.
    let mut left = new_leftovers();
    for _ in 0..300 {
        if left.0.is_empty() && left.1.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        left = new_leftovers();
    }
    assert_eq!(left, (vec![], vec![]), "browser processes and profiles left after shutdown");
    let fds_end = open_fds();
    assert!(fds_end <= fds_before_pool + 2, "file descriptors: {fds_before_pool} before the pool, {fds_end} after it");
}
