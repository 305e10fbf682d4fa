//! The runner server streams files: 16 parallel requests for most of a 64 MiB model file
//! (8 by Range, 8 whole) must not hold the file per request. Its own test binary, so the
//! process's peak RSS is this test's alone.

use ipfs_accelerate_host::server::RunnerServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[path = "support/process_stats.rs"]
mod process_stats;
use process_stats::peak_rss;

const FILE_BYTES: u64 = 64 << 20;
const REQUESTS: usize = 16;
/// Growth of peak RSS allowed while serving 16 × ~64 MiB = 1 GiB. Reading the file per
/// request (as before) would need ≥ 16 × 64 MiB = 1 GiB.
const MAX_GROWTH_BYTES: u64 = 48 << 20;

/// Send one GET and count the body bytes, keeping none of them.
async fn fetch(addr: String, token: String, path: String, range: Option<String>) -> (String, u64) {
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let range = range.map(|r| format!("Range: {r}\r\n")).unwrap_or_default();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nX-Accelerate-Token: {token}\r\n{range}Connection: close\r\n\r\n");
    s.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut buf = vec![0u8; 64 << 10];
    let mut body = 0u64;
    loop {
        let n = s.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        if body == 0 && !head.ends_with(b"\r\n\r\n") {
            head.extend_from_slice(&buf[..n]);
            if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                body = (head.len() - end - 4) as u64;
                head.truncate(end + 4);
            }
        } else {
            body += n as u64;
        }
    }
    (String::from_utf8_lossy(&head).into_owned(), body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_range_requests_on_a_large_file_stay_in_bounded_memory() {
    let root = std::env::temp_dir().join(format!("ipfs-accelerate-memory-{}", std::process::id()));
    let (pkg, models) = (root.join("pkg"), root.join("models/big"));
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::create_dir_all(&models).unwrap();
    std::fs::write(pkg.join("ipfs_accelerate.js"), "export default function init() {}").unwrap();
    // Sparse: no disk written, and the page cache is not this process's RSS.
    std::fs::File::create(models.join("model.safetensors")).unwrap().set_len(FILE_BYTES).unwrap();
    let server = RunnerServer::start_with_models(pkg, root.join("models")).await.unwrap();
    let addr = server.base_url().trim_start_matches("http://").trim_end_matches('/').to_string();
    let before = peak_rss();
    let requests = (0..REQUESTS).map(|i| {
        let range = (i % 2 == 0).then(|| format!("bytes={}-", i * 1000));
        tokio::spawn(fetch(addr.clone(), server.token().to_string(), "/models/big/model.safetensors".into(), range))
    });
    let replies = futures_util::future::join_all(requests).await;
    let growth = peak_rss().saturating_sub(before);
    for (i, r) in replies.into_iter().enumerate() {
        let (head, body) = r.unwrap();
        let expected = if i % 2 == 0 { FILE_BYTES - i as u64 * 1000 } else { FILE_BYTES };
        assert_eq!(body, expected, "request {i}: {head}");
        assert!(head.starts_with(if i % 2 == 0 { "HTTP/1.1 206" } else { "HTTP/1.1 200" }), "{head}");
    }
    eprintln!("peak RSS grew {:.1} MiB serving {REQUESTS} × 64 MiB", growth as f64 / (1 << 20) as f64);
    assert!(growth < MAX_GROWTH_BYTES, "peak RSS grew {growth} bytes");
    std::fs::remove_dir_all(&root).unwrap();
}
