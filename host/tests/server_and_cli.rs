//! The loopback runner server and the CLI's handling of bad input.

#[path = "support/scratch_dir.rs"]
mod scratch_dir;
use ipfs_accelerate_host::server::RunnerServer;
use scratch_dir::ScratchDir;
use std::process::Command;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// (host:port, token) of a runner URL `http://127.0.0.1:<port>/?token=<token>`.
fn split_url(url: &str) -> (&str, &str) {
    let rest = url.trim_start_matches("http://");
    let (addr, query) = rest.split_once('/').unwrap_or((rest, ""));
    (addr, query.split_once("token=").map_or("", |(_, t)| t))
}

async fn get(url: &str, path: &str) -> String {
    let (addr, token) = split_url(url);
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nX-Accelerate-Token: {token}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

fn pkg_dir_with_glue(name: &str) -> ScratchDir {
    let dir = ScratchDir::new(&format!("pkg-{name}"));
    std::fs::write(dir.join("ipfs_accelerate.js"), "export default function init() {}").unwrap();
    dir
}

#[tokio::test]
async fn runner_is_cross_origin_isolated_and_loopback_only() {
    let pkg = pkg_dir_with_glue("headers");
    let server = RunnerServer::start(pkg.to_path_buf()).await.unwrap();
    assert!(server.url().starts_with("http://127.0.0.1:"));
    let page = get(&server.url(), "/").await.to_lowercase();
    assert!(page.starts_with("http/1.1 200"));
    assert!(page.contains("cross-origin-opener-policy: same-origin"));
    assert!(page.contains("cross-origin-embedder-policy: require-corp"));
    let glue = get(&server.url(), "/pkg/ipfs_accelerate.js").await.to_lowercase();
    assert!(glue.starts_with("http/1.1 200") && glue.contains("content-type: text/javascript"));
}

/// The raw reply head to `request` (CRLF lines, without the final blank line).
async fn raw(addr: &str, request: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(format!("{request}Connection: close\r\n\r\n").as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response.to_lowercase()
}

/// Every request needs this run's token; the Host must be the server's loopback name and a
/// browser's Origin its own: another local user, or a web page using DNS rebinding, gets 403.
#[tokio::test]
async fn runner_requires_the_run_token_and_its_own_host_and_origin() {
    let pkg = pkg_dir_with_glue("access");
    let server = RunnerServer::start(pkg.to_path_buf()).await.unwrap();
    let url = server.url();
    let (addr, token) = split_url(&url);
    assert_eq!(token, server.token());
    assert_eq!(token.len(), 64, "32 random bytes, hex");
    let path = "/pkg/ipfs_accelerate.js";
    let status = |reply: &str| reply.lines().next().unwrap_or_default().to_string();
    // No token, a wrong one, a wrong Host, a foreign Origin: refused.
    assert!(status(&raw(addr, &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n")).await).contains("403"));
    let wrong = "0".repeat(64);
    assert!(status(&raw(addr, &format!("GET {path}?token={wrong} HTTP/1.1\r\nHost: {addr}\r\n")).await).contains("403"));
    let port = addr.rsplit(':').next().unwrap();
    let rebound = format!("GET {path} HTTP/1.1\r\nHost: attacker.example:{port}\r\nX-Accelerate-Token: {token}\r\n");
    assert!(status(&raw(addr, &rebound).await).contains("403"));
    let foreign = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://attacker.example\r\nX-Accelerate-Token: {token}\r\n");
    assert!(status(&raw(addr, &foreign).await).contains("403"));
    // The page URL's token sets the cookie; the cookie alone then passes, with the page's Origin.
    let page = raw(addr, &format!("GET /?token={token} HTTP/1.1\r\nHost: {addr}\r\n")).await;
    assert!(status(&page).contains("200"), "{page}");
    assert!(page.contains(&format!("set-cookie: accelerate_token={token}; path=/; httponly; samesite=strict")), "{page}");
    let with_cookie = format!(
        "GET {path} HTTP/1.1\r\nHost: localhost:{port}\r\nOrigin: http://localhost:{port}\r\nCookie: a=b; accelerate_token={token}\r\n"
    );
    assert!(status(&raw(addr, &with_cookie).await).contains("200"));
}

#[tokio::test]
async fn runner_refuses_paths_outside_the_package() {
    let pkg = pkg_dir_with_glue("traversal");
    let server = RunnerServer::start(pkg.to_path_buf()).await.unwrap();
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
fn cli_refuses_bad_sampling_counts_and_pools_up_front_by_name() {
    // Sampling: the SDK's check, shared with the JS API, before the model is loaded.
    let run = |flag: &str, value: &str| accelerate(&["run", "--model", "smollm2", "--prompt", "x", flag, value]);
    for (flag, value) in
        [("--temperature", "-1"), ("--temperature", "NaN"), ("--top-p", "2"), ("--repetition-penalty", "0"), ("--kv-cache", "q5")]
    {
        let (ok, err) = run(flag, value);
        assert!(!ok && err.contains(&format!("{flag}: ")) && err.contains(value), "{flag} {value}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let db = std::env::temp_dir().join(format!("never-created-{}.duckdb", std::process::id()));
    let db = db.to_str().unwrap();
    // Sample counts are bounded before anything runs or is stored.
    let (ok, err) = accelerate(&["bench", "--samples", "100000", "--db", db]);
    assert!(!ok && err.contains("--samples") && err.contains("10000"), "{err}");
    let (ok, err) = accelerate(&["bench", "--samples", "0", "--db", db]);
    assert!(!ok && err.contains("--samples"), "{err}");
    // A pool with no browser, or kills that never happen, are refused at once (not after a
    // 90 s wait and a panic, or an endless stream of requests).
    let started = std::time::Instant::now();
    let (ok, err) = accelerate(&["pool", "--browsers", "none", "--requests", "1", "--db", db]);
    assert!(!ok && err.contains("--browsers") && !err.contains("panicked"), "{err}");
    let (ok, err) = accelerate(&["pool", "--kill-every", "0", "--db", db]);
    assert!(!ok && err.contains("--kill-every"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "{:?}", started.elapsed());
    assert!(!std::path::Path::new(db).exists(), "nothing may be written on bad input");
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
    assert_eq!(browsers, ["chromium", "chromium-webnn", "firefox", "edge", "safari"]);
    // Absent browsers say why instead of disappearing.
    for b in report["browsers"].as_array().unwrap() {
        assert!(b["version"].is_string() || b["problem"].is_string(), "{b}");
    }
    assert!(report["host"]["cpu_cores"].as_u64().unwrap() >= 1);
    // Which int8 and f32 matmul kernels this CPU gets, in line with its features.
    let kernels = &report["sdk_cpu_kernels"];
    let features: Vec<&str> = report["host"]["cpu_features"].as_array().unwrap().iter().filter_map(|f| f.as_str()).collect();
    let int8 = kernels["matmul_int8"].as_str().unwrap();
    let expected = if features.contains(&"avx512vnni") {
        "avx512-vnni"
    } else if features.contains(&"avx2") {
        "avx2"
    } else {
        "portable"
    };
    assert_eq!(int8, expected, "{kernels}");
    assert!(kernels["matmul_f32"].is_string(), "{kernels}");
    for a in report["native_adapters"].as_array().unwrap() {
        if a["name"].as_str().unwrap().contains("llvmpipe") {
            assert_eq!(a["software"], true, "{a}");
        }
    }
}

async fn get_bytes(url: &str, path: &str, extra_header: &str) -> (String, Vec<u8>) {
    let (addr, token) = split_url(url);
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nX-Accelerate-Token: {token}\r\n{extra_header}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").map_or(response.len(), |i| i + 4);
    (String::from_utf8_lossy(&response[..split]).to_lowercase(), response[split..].to_vec())
}

/// A models folder with one model, "m": a config and 100 bytes of weights.
fn models_dir(name: &str) -> (std::path::PathBuf, Vec<u8>) {
    let root = std::env::temp_dir().join(format!("ipfs-accelerate-models-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("m")).unwrap();
    std::fs::write(root.join("m/config.json"), "{}").unwrap();
    let weights: Vec<u8> = (0..100u8).collect();
    std::fs::write(root.join("m/weights.bin"), &weights).unwrap();
    (root, weights)
}

#[tokio::test]
async fn model_files_are_served_with_a_manifest_by_range_and_by_cid() {
    let (root, weights) = models_dir("serve");
    let pkg = pkg_dir_with_glue("models");
    let server = RunnerServer::start_with_models(pkg.to_path_buf(), root.clone()).await.unwrap();
    let (head, body) = get_bytes(&server.url(), "/models/m/manifest.json", "").await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    let manifest = ipfs_accelerate::store::ModelManifest::from_json(&String::from_utf8_lossy(&body)).unwrap();
    let file = manifest.file("weights.bin").unwrap();
    let cid = ipfs_accelerate::weights::Cid::of(&weights);
    assert_eq!((manifest.name.as_str(), file.cid, file.size), ("m", cid, 100));

    let (head, body) = get_bytes(&server.url(), "/models/m/weights.bin", "Range: bytes=40-\r\n").await;
    assert!(head.starts_with("http/1.1 206") && head.contains("content-range: bytes 40-99/100"), "{head}");
    assert_eq!(body, weights[40..]);
    let (head, _) = get_bytes(&server.url(), "/models/m/weights.bin", "Range: bytes=100-\r\n").await;
    assert!(head.starts_with("http/1.1 416"), "{head}");

    let (head, body) = get_bytes(&server.url(), &format!("/ipfs/{cid}"), "").await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert_eq!(body, weights);
    let (head, _) = get_bytes(&server.url(), "/ipfs/QmNotOurs", "").await;
    assert!(head.starts_with("http/1.1 400"), "{head}");
    let (head, _) = get_bytes(&server.url(), &format!("/ipfs/{}", ipfs_accelerate::weights::Cid::of(b"absent")), "").await;
    assert!(head.starts_with("http/1.1 404"), "{head}");

    let log = server.requests();
    assert_eq!(log.len(), 6);
    assert_eq!((log[1].range.as_deref(), log[1].status), (Some("bytes=40-"), 206));
    let _ = std::fs::remove_dir_all(root);
}

#[test]
fn manifest_command_prints_and_writes_file_cids() {
    let (root, weights) = models_dir("cli");
    let dir = root.join("m");
    let out = Command::new(env!("CARGO_BIN_EXE_accelerate")).args(["manifest", "--dir"]).arg(&dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = ipfs_accelerate::store::ModelManifest::from_json(&String::from_utf8_lossy(&out.stdout)).unwrap();
    assert_eq!(printed.file("weights.bin").unwrap().cid, ipfs_accelerate::weights::Cid::of(&weights));
    let (ok, err) = accelerate(&["manifest", "--dir", "/nonexistent/model", "--write"]);
    assert!(!ok && err.contains("/nonexistent/model"), "{err}");
    let out = Command::new(env!("CARGO_BIN_EXE_accelerate")).args(["manifest", "--write", "--dir"]).arg(&dir).output().unwrap();
    assert!(out.status.success());
    let written = ipfs_accelerate::store::ModelManifest::from_json(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(written.files, printed.files, "a manifest never lists itself");
    let _ = std::fs::remove_dir_all(root);
}

#[test]
fn accelerate_run_smollm2_generates_the_reference_continuation_and_names_a_missing_prompt() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_accelerate"))
        .args(["run", "--model", "smollm2", "--prompt", "The capital of France is", "--max-tokens", "2"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    // Greedy ids 7042, 30 in scripts/reference/smollm2_greedy.py's output.
    assert!(stdout.starts_with(" Paris."), "{stdout}");
    assert!(stdout.contains("decoded at"), "{stdout}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_accelerate"))
        .args(["run", "--model", "smollm2"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("needs --prompt"));
}
