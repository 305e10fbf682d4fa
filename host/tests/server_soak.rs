//! A bounded soak of the runner server: thousands of requests of every kind (files, ranges,
//! misses, refused ones) and slow clients that stall mid-download and then vanish. At the end
//! the process's open file descriptors are back where they started and its resident memory
//! has not grown past a fixed bound: nothing is kept per request. Its own test binary, so the
//! process's figures are this test's alone.

use ipfs_accelerate_host::server::RunnerServer;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[path = "support/process_stats.rs"]
mod process_stats;
use process_stats::{open_fds, rss};

const BIG_FILE_BYTES: u64 = 64 << 20;
const ROUNDS: usize = 100;
const PER_ROUND: usize = 32;
const SLOW_CLIENTS: usize = 32;
/// Resident memory the whole soak may add (allocator caches, the request log's 4096 entries).
const MAX_RSS_GROWTH_BYTES: u64 = 64 << 20;

/// One request; reads the reply to the end (or `keep` bytes, then stalls and drops the
/// connection). Returns the status line.
async fn request(addr: String, head: String, stall_after: Option<usize>) -> String {
    let Ok(mut s) = tokio::net::TcpStream::connect(&addr).await else { return "connect failed".into() };
    let _ = s.write_all(format!("{head}Connection: close\r\n\r\n").as_bytes()).await;
    let mut buf = vec![0u8; 64 << 10];
    let (mut seen, mut first) = (0usize, Vec::new());
    loop {
        let n = s.read(&mut buf).await.unwrap_or(0);
        if n == 0 {
            break;
        }
        if first.len() < 64 {
            first.extend_from_slice(&buf[..n.min(64)]);
        }
        seen += n;
        if stall_after.is_some_and(|keep| seen >= keep) {
            tokio::time::sleep(Duration::from_millis(500)).await;
            break; // dropped mid-body
        }
    }
    String::from_utf8_lossy(&first).lines().next().unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thousands_of_requests_and_stalled_clients_leave_fds_and_memory_flat() {
    let root = std::env::temp_dir().join(format!("ipfs-accelerate-soak-{}", std::process::id()));
    let (pkg, model) = (root.join("pkg"), root.join("models/m"));
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::create_dir_all(&model).unwrap();
    std::fs::write(pkg.join("ipfs_accelerate.js"), "export default function init() {}").unwrap();
    std::fs::write(model.join("config.json"), "{}").unwrap();
    std::fs::File::create(model.join("model.safetensors")).unwrap().set_len(BIG_FILE_BYTES).unwrap();
    let server = RunnerServer::start_with_models(pkg, root.join("models")).await.unwrap();
    let addr = server.base_url().trim_start_matches("http://").trim_end_matches('/').to_string();
    let token = server.token().to_string();
    let with_token = |path: &str, extra: &str| format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nX-Accelerate-Token: {token}\r\n{extra}");

    // Warm up (manifests hashed, pools and caches filled), then take the baseline.
    for _ in 0..20 {
        request(addr.clone(), with_token("/models/m/manifest.json", ""), None).await;
    }
    let (fds_before, rss_before) = (open_fds(), rss());

    let mut statuses = std::collections::BTreeMap::<String, usize>::new();
    for round in 0..ROUNDS {
        let batch = (0..PER_ROUND).map(|i| {
            let kind = (round * PER_ROUND + i) % 6;
            let head = match kind {
                0 => with_token("/models/m/config.json", ""),
                1 => with_token("/models/m/model.safetensors", &format!("Range: bytes={}-{}\r\n", i * 4096, i * 4096 + 65535)),
                2 => with_token("/models/m/manifest.json", ""),
                3 => with_token(&format!("/models/m/missing-{i}-{}", "x".repeat(300)), ""),
                4 => format!("GET /models/m/config.json HTTP/1.1\r\nHost: {addr}\r\n"), // no token
                _ => with_token("/pkg/ipfs_accelerate.js", ""),
            };
            tokio::spawn(request(addr.clone(), head, None))
        });
        for status in futures_util::future::join_all(batch).await {
            *statuses.entry(status.unwrap()).or_default() += 1;
        }
    }
    // Slow clients: each starts the 64 MiB download, takes 1 MiB, stalls, and goes away.
    let slow = (0..SLOW_CLIENTS).map(|_| tokio::spawn(request(addr.clone(), with_token("/models/m/model.safetensors", ""), Some(1 << 20))));
    futures_util::future::join_all(slow).await;

    // The server notices closed connections on its next write: give it a moment.
    let mut fds_after = open_fds();
    for _ in 0..50 {
        if fds_after <= fds_before + 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        fds_after = open_fds();
    }
    let growth = rss().saturating_sub(rss_before);
    eprintln!(
        "{} requests + {SLOW_CLIENTS} stalled downloads: {statuses:?}; fds {fds_before} → {fds_after}; RSS +{:.1} MiB",
        ROUNDS * PER_ROUND,
        growth as f64 / (1 << 20) as f64
    );
    let count = |prefix: &str| statuses.iter().filter(|(s, _)| s.starts_with(prefix)).map(|(_, n)| n).sum::<usize>();
    let per_kind = ROUNDS * PER_ROUND / 6;
    assert!(count("HTTP/1.1 403") >= per_kind, "requests without the token are refused: {statuses:?}");
    assert!(count("HTTP/1.1 404") >= per_kind, "{statuses:?}");
    assert!(count("HTTP/1.1 200") + count("HTTP/1.1 206") >= 3 * per_kind, "{statuses:?}");
    assert!(fds_after <= fds_before + 2, "file descriptors grew from {fds_before} to {fds_after}");
    assert!(growth < MAX_RSS_GROWTH_BYTES, "resident memory grew {growth} bytes");
    assert!(server.requests().len() <= 4096, "the request log is a bounded ring");
    std::fs::remove_dir_all(&root).unwrap();
}
