//! docs/guide.md cannot rot: every code block in it runs. `js` blocks run as modules in the
//! runner page in headless Chromium (`ipfs-accelerate` resolved through its import map, the
//! models served from `/models/…` as a user would host them); `sh` blocks run in bash in a
//! scratch directory; a block marked `excerpt=PATH` must appear word for word in PATH (an
//! example app that browser_examples.rs builds and uses).

use ipfs_accelerate_host::browser::{detect, BrowserKind, BrowserSession};
use ipfs_accelerate_host::paths::{example_apps_dir, model_cache, wasm_pkg_dir};
use ipfs_accelerate_host::server::RunnerServer;
use std::path::Path;
use std::process::Command;

const GUIDE: &str = include_str!("../docs/guide.md");

struct Block {
    info: String,
    code: String,
    line: usize,
}

/// The fenced blocks of a Markdown text, with their info strings and first lines.
fn blocks(markdown: &str) -> Vec<Block> {
    let mut found = Vec::new();
    let mut open: Option<Block> = None;
    for (i, line) in markdown.lines().enumerate() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(info)) => open = Some(Block { info: info.trim().to_string(), code: String::new(), line: i + 1 }),
            (Some(_), Some("")) => found.extend(open.take()),
            (Some(block), _) => {
                block.code.push_str(line);
                block.code.push('\n');
            }
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "docs/guide.md: a code block is never closed");
    found
}

#[test]
fn every_block_is_of_a_kind_the_tests_run() {
    let blocks = blocks(GUIDE);
    assert!(blocks.len() >= 10, "{} blocks", blocks.len());
    for b in &blocks {
        let runnable = b.info == "js" || b.info == "sh" || b.info.split_once(' ').is_some_and(|(_, rest)| rest.starts_with("excerpt="));
        assert!(runnable, "docs/guide.md:{}: a ```{} block is not run by any test", b.line, b.info);
    }
}

#[test]
fn excerpts_are_word_for_word_in_their_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for b in blocks(GUIDE) {
        let Some((_, path)) = b.info.split_once("excerpt=") else { continue };
        let file = std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("docs/guide.md:{}: {path}: {e}", b.line));
        assert!(file.contains(&b.code), "docs/guide.md:{}: this block is no longer in {path}:\n{}", b.line, b.code);
    }
}

/// The `sh` blocks in order, in one scratch directory holding the model files under
/// public/models/. `npm install ipfs-accelerate` installs the packed tarball the example apps
/// are built from (a stand-in for the registry, where this build is not published).
#[test]
fn shell_blocks_run() {
    let scratch = std::env::temp_dir().join(format!("guide-sh-{}", std::process::id()));
    let model = scratch.join("public/models/all-minilm-l6-v2");
    std::fs::create_dir_all(&model).unwrap();
    for file in ["config.json", "tokenizer.json", "model.safetensors"] {
        std::os::unix::fs::symlink(model_cache().join("all-minilm-l6-v2").join(file), model.join(file)).unwrap();
    }
    let tarball = std::fs::read_dir(example_apps_dir())
        .expect("the packed tarball (cargo xtask build-examples)")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "tgz"))
        .expect("the packed tarball (cargo xtask build-examples)");
    let stand_in = format!(
        "npm() {{ if [ \"$1 $2\" = \"install ipfs-accelerate\" ]; then command npm install --offline --no-audit --no-fund '{}'; else command npm \"$@\"; fi; }}\n",
        tarball.display()
    );
    for b in blocks(GUIDE).into_iter().filter(|b| b.info == "sh") {
        let out = Command::new("bash")
            .args(["-euo", "pipefail", "-c"])
            .arg(format!("{stand_in}{}", b.code))
            .current_dir(&scratch)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "docs/guide.md:{}: {}\n{}{}",
            b.line,
            b.code,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The manifest block wrote what the SDK verifies against.
    let manifest = std::fs::read_to_string(model.join("manifest.json")).expect("the manifest block writes manifest.json");
    assert!(manifest.contains("model.safetensors") && manifest.contains("bafkrei"), "{manifest}");
    std::fs::remove_dir_all(&scratch).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn js_blocks_run_in_chromium() {
    let server = RunnerServer::start(wasm_pkg_dir()).await.unwrap();
    let session = BrowserSession::launch(&detect(BrowserKind::Chromium).unwrap(), &server.url()).await.unwrap();
    let mut failures = Vec::new();
    for b in blocks(GUIDE).into_iter().filter(|b| b.info == "js") {
        match session.call("runModule", vec![b.code.clone().into()]).await {
            Ok(logged) => eprintln!("docs/guide.md:{} logged {:.300}", b.line, logged.to_string()),
            Err(e) => failures.push(format!("docs/guide.md:{}: {e}", b.line)),
        }
    }
    session.close().await.unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
