//! `accelerate examples`: use each example app (built from the packed npm tarball by `cargo
//! xtask build-examples`) in a headless browser as a person would, print what it showed, and
//! keep a screenshot of each.

use crate::apps::{use_chat, use_semantic_search, wasm_build_sizes, SearchVisit};
use crate::bench::options::{parse_browser, DEFAULT_BROWSER};
use crate::browser::BrowserSession;
use crate::server::RunnerServer;
use crate::{paths, HostError, Result};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value = DEFAULT_BROWSER.name())]
    browser: String,
    /// Devices the apps prefer, in order (the apps' `?device=`).
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Where the screenshots go (`<app>.png`).
    #[arg(long, default_value = "results/examples")]
    screenshots: PathBuf,
}

pub async fn run(Args { browser, device, screenshots }: Args) -> Result<()> {
    let kind = parse_browser(&browser)?;
    print_sizes()?;
    if !paths::example_apps_dir().join("semantic-search/dist/index.html").is_file() {
        return Err(HostError::Invalid(format!(
            "the example apps are not built in {} (build them with `cargo xtask build-examples`)",
            paths::example_apps_dir().display()
        )));
    }
    let install = crate::browser::detect(kind).map_err(|e| HostError::Invalid(format!("{browser}: {e}")))?;
    let server = RunnerServer::start(paths::wasm_pkg_dir()).await?;
    let session = BrowserSession::launch(&install, &server.url()).await?;
    let url = |app: &str, model: &str| format!("{}apps/{app}/?model=/models/{model}/&device={device}", server.base_url());
    let result =
        visit_both(&session, &url("semantic-search", "all-minilm-l6-v2"), &url("chat-react", "smollm2-135m-instruct"), &screenshots).await;
    session.close().await?;
    result
}

/// What each wasm build costs to download.
fn print_sizes() -> Result<()> {
    let npm = paths::wasm_pkg_dir().parent().map(std::path::Path::to_path_buf).unwrap_or_default();
    println!("{:<22} {:>10} {:>10}", "wasm build", "raw MB", "gzip MB");
    for size in wasm_build_sizes(&npm)? {
        println!("{:<22} {:>10.2} {:>10.2}", size.build, size.raw_bytes as f64 / 1e6, size.gzip_bytes as f64 / 1e6);
    }
    Ok(())
}

/// Start-up on a first (network) and a second (IndexedDB) visit.
fn print_startup(first: &SearchVisit, second: &SearchVisit) {
    println!("{:<8} {:>10} {:>10} {:>16} {:>8}", "visit", "create ms", "load ms", "searchable ms", "build");
    for (name, v) in [("cold", first), ("warm", second)] {
        println!("{name:<8} {:>10.0} {:>10.0} {:>16.0} {:>8}", v.create_ms, v.load_ms, v.ready_ms, v.build);
    }
}

async fn visit_both(session: &BrowserSession, search_url: &str, chat_url: &str, screenshots: &std::path::Path) -> Result<()> {
    let shot = screenshots.join("semantic-search.png");
    let [first, second] = use_semantic_search(session, search_url, "how do I bake bread at home", Some(&shot)).await?;
    println!("semantic-search, first visit:  {}", first.status);
    println!("semantic-search, second visit: {}", second.status);
    print_startup(&first, &second);
    println!("  \"how do I bake bread at home\" → {}", second.results.first().map_or("(nothing)", String::as_str));
    println!("  screenshot: {}", shot.display());

    let shot = screenshots.join("chat-react.png");
    let chat = use_chat(session, chat_url, "What is the capital of France?", "Write a long story about a dragon.", Some(&shot)).await?;
    println!("chat-react: {}", chat.status);
    println!("  \"What is the capital of France?\" → {:?} ({}, streamed in {} pieces)", chat.reply, chat.finish, chat.streamed.len());
    println!("  stopped mid-reply → {:?} ({})", chat.stopped_reply, chat.stopped_finish);
    println!("  screenshot: {}", shot.display());
    Ok(())
}
