//! A full disk under the browsers' profiles, for real: a loop-mounted ext4 filesystem whose
//! space is taken but for a few MB, fewer than the model's weights. Headless Chromium and
//! Firefox load MiniLM-L6 through the npm package there: the weight store cannot keep the
//! weights, yet the model loads and embeds as the reference does, the report says the files
//! were not cached, and no half-written copy is left in IndexedDB. A second load on the same
//! full disk works too.
//!
//! Making the filesystem needs root (mount, loop devices), as the browser tests run here.
//! One test runs both browsers in turn: TMPDIR, where profiles are made, is the process's.

use ipfs_accelerate_host::browser::{detect_all, BrowserKind, BrowserSession};
use ipfs_accelerate_host::paths::wasm_pkg_dir;
use ipfs_accelerate_host::server::RunnerServer;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

const L6: &str = "/models/all-minilm-l6-v2/";
const REFERENCE: &str = include_str!("../sdk-wasm/tests/data/minilm_embeddings.json");
/// Room left on the full disk: enough for a browser profile, not for the 91 MB of weights.
const FREE_BYTES: u64 = 60 << 20;

/// A sparse ext4 image, loop-mounted, filled by one preallocated file but for `free` bytes.
/// Unmounted and deleted on drop.
struct FullDisk {
    dir: PathBuf,
    mount: PathBuf,
}

fn run(program: &str, args: &[&str]) {
    let out = Command::new(program).args(args).output().unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "`{program} {}` failed ({}): {} (this test makes a real full filesystem: it needs root and loop devices)",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    );
}

fn free_bytes(path: &Path) -> u64 {
    let out = Command::new("df").args(["-Pk", "--"]).arg(path).output().unwrap_or_else(|e| panic!("df: {e}"));
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let kib = text.lines().nth(1).and_then(|l| l.split_whitespace().nth(3)).and_then(|k| k.parse::<u64>().ok());
    kib.unwrap_or_else(|| panic!("df {}: {text}", path.display())) << 10
}

impl FullDisk {
    fn new(free: u64) -> FullDisk {
        let dir = std::env::temp_dir().join(format!("ipfs-accelerate-full-disk-{}", std::process::id()));
        let (image, mount) = (dir.join("disk.img"), dir.join("mnt"));
        std::fs::create_dir_all(&mount).unwrap_or_else(|e| panic!("{}: {e}", mount.display()));
        let disk = FullDisk { dir, mount };
        let (image, mount) = (image.to_string_lossy().to_string(), disk.mount.to_string_lossy().to_string());
        run("truncate", &["-s", "8G", &image]);
        run("mkfs.ext4", &["-q", "-F", "-m", "0", &image]);
        run("mount", &["-o", "loop", &image, &mount]);
        let filler = free_bytes(&disk.mount) - free;
        run("fallocate", &["-l", &filler.to_string(), &format!("{mount}/filler")]);
        // Browsers may run as their own user (see isolation): the profiles' parent is everyone's.
        run("chmod", &["1777", &mount]);
        disk
    }
}

impl Drop for FullDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.mount).status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn reference() -> (String, Vec<f64>) {
    let r: Value = serde_json::from_str(REFERENCE).unwrap_or_default();
    let s = &r["sentences"][0];
    (
        s["text"].as_str().unwrap_or_default().into(),
        s["embedding"].as_array().map(|a| a.iter().filter_map(Value::as_f64).collect()).unwrap_or_default(),
    )
}

/// Load L6 twice on the full disk in `kind`: both loads work and match the reference; nothing
/// of the weights is kept, whole or in part.
async fn loads_on_a_full_disk(kind: BrowserKind, server: &RunnerServer) {
    let install = detect_all().into_iter().find(|d| d.kind == kind).and_then(|d| d.install.ok()).unwrap_or_else(|| panic!("{kind:?}"));
    let session = BrowserSession::launch(&install, &server.url()).await.unwrap_or_else(|e| panic!("{e}"));
    let (text, want) = reference();
    for attempt in ["first", "second"] {
        let reply = session.call("cacheLoad", vec![L6.into(), json!({ "texts": [text] })]).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(reply.get("error"), None, "{kind:?} {attempt} load: {reply}");
        let report = &reply["report"];
        eprintln!("{kind:?} {attempt} load on a full disk: {report}");
        let got: Vec<f64> = reply["embeddings"][0].as_array().map(|a| a.iter().filter_map(Value::as_f64).collect()).unwrap_or_default();
        let cos: f64 = got.iter().zip(&want).map(|(a, b)| a * b).sum();
        assert!(cos >= 0.9999, "{kind:?} {attempt} load: cosine {cos} against the reference");
        assert_eq!(report["files"]["model.safetensors"], "uncached", "{kind:?} {attempt} load: {report}");
        // The browser's quota still had room: the writes themselves failed, and are named
        // (Chromium: "DataError: Failed to write blobs (IOError)"; Firefox: QuotaExceededError).
        let store_error = report["storeError"].as_str().unwrap_or_default();
        assert!(store_error.starts_with("IndexedDB chunk write: "), "{kind:?} {attempt} load: {report}");
        assert!(report["networkBytes"].as_u64().is_some_and(|n| n >= 90_868_376), "{kind:?} {attempt}: {report}");
        let usage = &reply["cache"]["usage"];
        assert_eq!(usage["partialBytes"], 0, "{kind:?} {attempt}: nothing half-written is kept: {usage}");
        assert!(usage["bytes"].as_u64().is_some_and(|b| b < 90_868_376), "{kind:?} {attempt}: the weights are not kept: {usage}");
    }
    let _ = session.close().await;
}

#[test]
fn on_a_full_disk_models_load_uncached_in_chromium_and_firefox_and_leave_nothing_half_written() {
    let disk = FullDisk::new(FREE_BYTES);
    // Before any thread starts: browser profiles are made in the temp dir.
    std::env::set_var("TMPDIR", &disk.mount);
    let runtime = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    runtime.block_on(async {
        let server = RunnerServer::start(wasm_pkg_dir()).await.unwrap_or_else(|e| panic!("{e}"));
        for kind in [BrowserKind::Chromium, BrowserKind::Firefox] {
            loads_on_a_full_disk(kind, &server).await;
        }
    });
    drop(disk);
}
