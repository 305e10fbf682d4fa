//! `npx ipfs-accelerate manifest DIR` (Node alone, no Rust) writes exactly the manifest the
//! host writes — files, CIDs, sizes, version and every safetensors slice — for a real model
//! and for a directory of awkward entries; a damaged safetensors file is a named error.

use ipfs_accelerate::store::ModelManifest;
use std::path::{Path, PathBuf};
use std::process::Command;

fn cli() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../npm/bin/ipfs-accelerate.js")
}

/// (exit code, stdout, stderr) of the Node CLI.
fn node(args: &[&str]) -> (i32, String, String) {
    let out = Command::new("node").arg(cli()).args(args).output().unwrap_or_else(|e| panic!("node: {e}"));
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

fn host_manifest(name: &str, dir: &Path) -> String {
    serde_json::to_string_pretty(&ModelManifest::for_dir(name, dir).unwrap_or_else(|e| panic!("{e}"))).unwrap()
}

#[test]
fn node_writes_the_hosts_manifest_byte_for_byte() {
    let minilm = ipfs_accelerate::weights::model_cache_dir().join("all-minilm-l6-v2");
    let (code, out, err) = node(&["manifest", minilm.to_str().unwrap(), "--name", "minilm"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim_end(), host_manifest("minilm", &minilm));
    assert!(out.contains("\"slices\"") && out.contains("encoder.layer.5.output.dense.weight"));

    // Hidden files, a subdirectory, an old manifest, an empty file, a non-ASCII name: listed
    // (or skipped) the same way.
    let dir = std::env::temp_dir().join(format!("ipfs-accelerate-npm-manifest-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    for (name, bytes) in [(".hidden", &b"x"[..]), ("manifest.json", b"{}"), ("empty.bin", b""), ("Zeta.txt", b"z"), ("é.txt", b"e")] {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    let (code, out, err) = node(&["manifest", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let name = dir.file_name().unwrap().to_str().unwrap();
    assert_eq!(out.trim_end(), host_manifest(name, &dir));

    // --write replaces manifest.json whole; the SDK's own parser accepts it.
    let (code, out, err) = node(&["manifest", dir.to_str().unwrap(), "--write", "--name", "odd"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("wrote") && out.contains("3 files"), "{out}");
    let written = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    assert_eq!(ModelManifest::from_json(&written).map(|m| m.name).ok().as_deref(), Some("odd"));
    assert!(!dir.join("manifest.json.partial").exists());

    // A damaged weight file is an error naming it; nothing is written.
    std::fs::write(dir.join("broken.safetensors"), [200, 0, 0, 0, 0, 0, 0, 0, b'{']).unwrap();
    let (code, _, err) = node(&["manifest", dir.to_str().unwrap(), "--write"]);
    assert_eq!(code, 1);
    assert!(err.contains("broken.safetensors") && err.contains("header"), "{err}");
    assert_eq!(std::fs::read_to_string(dir.join("manifest.json")).unwrap(), written);
    let (code, _, err) = node(&["manifst", "x"]);
    assert!(code == 1 && err.contains("usage"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
