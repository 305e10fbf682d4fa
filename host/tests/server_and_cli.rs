//! The loopback runner server and the CLI's handling of bad input.

use ipfs_accelerate_host::server::RunnerServer;
use std::process::Command;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn get(url: &str, path: &str) -> String {
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

fn pkg_dir_with_glue(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ipfs-accelerate-pkg-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("ipfs_accelerate.js"), "export default function init() {}").unwrap();
    dir
}

#[tokio::test]
async fn runner_is_cross_origin_isolated_and_loopback_only() {
    let server = RunnerServer::start(pkg_dir_with_glue("headers")).await.unwrap();
    assert!(server.url().starts_with("http://127.0.0.1:"));
    let page = get(&server.url(), "/").await.to_lowercase();
    assert!(page.starts_with("http/1.1 200"));
    assert!(page.contains("cross-origin-opener-policy: same-origin"));
    assert!(page.contains("cross-origin-embedder-policy: require-corp"));
    let glue = get(&server.url(), "/pkg/ipfs_accelerate.js").await.to_lowercase();
    assert!(glue.starts_with("http/1.1 200") && glue.contains("content-type: text/javascript"));
}

#[tokio::test]
async fn runner_refuses_paths_outside_the_package() {
    let server = RunnerServer::start(pkg_dir_with_glue("traversal")).await.unwrap();
    for path in ["/pkg/..%2F..%2Fetc%2Fpasswd", "/pkg/.hidden", "/pkg/missing.wasm"] {
        let reply = get(&server.url(), path).await;
        assert!(reply.starts_with("HTTP/1.1 400") || reply.starts_with("HTTP/1.1 404"), "{path}: {reply}");
        assert!(!reply.contains("root:"), "{path} leaked a file");
    }
}

#[tokio::test]
async fn missing_wasm_package_is_a_clear_error() {
    let err = RunnerServer::start("/nonexistent/pkg".into()).await.err().unwrap().to_string();
    assert!(err.contains("/nonexistent/pkg") && err.contains("build-wasm"), "{err}");
}

fn accelerate(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_accelerate")).args(args).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stderr).to_string())
}

#[test]
fn cli_names_what_was_wrong() {
    let (ok, err) = accelerate(&["bench", "--backends", "native-tpu", "--db", "/tmp/never-created.duckdb"]);
    assert!(!ok && err.contains("native-tpu"), "{err}");
    assert!(!std::path::Path::new("/tmp/never-created.duckdb").exists(), "nothing may be written on bad input");
    let (ok, err) = accelerate(&["bench", "--suite", "nope"]);
    assert!(!ok && err.contains("nope") && err.contains("kernels"), "{err}");
    let (ok, err) = accelerate(&["bench", "--browsers", "netscape"]);
    assert!(!ok && err.contains("netscape"), "{err}");
    let (ok, err) = accelerate(&["report", "--db", "/nonexistent/x.duckdb"]);
    assert!(!ok && err.contains("/nonexistent/x.duckdb"), "{err}");
}

#[test]
fn doctor_json_lists_every_browser_and_native_adapters() {
    let out = Command::new(env!("CARGO_BIN_EXE_accelerate"))
        .args(["doctor", "--json", "--no-launch"])
        .env("XDG_RUNTIME_DIR", "/tmp")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let browsers: Vec<&str> = report["browsers"].as_array().unwrap().iter().map(|b| b["browser"].as_str().unwrap()).collect();
    assert_eq!(browsers, ["chromium", "firefox", "edge", "safari"]);
    // Absent browsers say why instead of disappearing.
    for b in report["browsers"].as_array().unwrap() {
        assert!(b["version"].is_string() || b["problem"].is_string(), "{b}");
    }
    assert!(report["host"]["cpu_cores"].as_u64().unwrap() >= 1);
    for a in report["native_adapters"].as_array().unwrap() {
        if a["name"].as_str().unwrap().contains("llvmpipe") {
            assert_eq!(a["software"], true, "{a}");
        }
    }
}
