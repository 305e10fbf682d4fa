//! `accelerate`: the native host CLI.

use clap::{Parser, Subcommand};
use ipfs_accelerate_host::bench::{self, kernels, BackendSelection};
use ipfs_accelerate_host::browser::BrowserKind;
use ipfs_accelerate_host::report::{render_html, render_table, RunView};
use ipfs_accelerate_host::server::RunnerServer;
use ipfs_accelerate_host::store::Store;
use ipfs_accelerate_host::{doctor, paths, HostError, Result};
use std::path::{Path, PathBuf};

#[derive(Parser)]
#[command(name = "accelerate", version, about = "Run, benchmark and compare ML kernels in real browsers and natively")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// What this machine has: browsers, WebGPU/WebNN/wasm features, native GPU adapters, ONNX Runtime.
    Doctor {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Only look for browsers; do not launch them.
        #[arg(long)]
        no_launch: bool,
    },
    /// Run a benchmark suite on every available backend and store the results in DuckDB.
    Bench {
        /// Suite to run: `kernels` (full), `kernels-smoke` (tiny shapes), `minilm` (sentence
        /// embeddings), `cache` (IndexedDB vs network loads, shared-encoder memory, embedding
        /// cache), `pool` (throughput over 1..N browser sessions, recovery from browser kills),
        /// `shard`, or `llm` (SmolLM2 Q4_1 generation: prefill, first token, decode, memory;
        /// ours native/browser vs candle; Q3/Q2 weights and Q8_0/Q4_1/Q2 KV cache quality).
        #[arg(long, default_value = "kernels")]
        suite: String,
        /// DuckDB file to append the run to.
        #[arg(long, default_value_os_t = paths::default_db())]
        db: PathBuf,
        #[arg(long, default_value_t = 3)]
        warmup: u32,
        #[arg(long, default_value_t = 10)]
        samples: u32,
        /// Comma-separated backends (default: all of the suite's). kernels: native-cpu, native-wgpu,
        /// browser-cpu, browser-webgpu. minilm adds native-ort-cpu, native-candle-cpu,
        /// browser-ort-web, browser-transformers-js. cache: browser-cpu, browser-webgpu. llm:
        /// native-cpu, native-candle-cpu, native-wgpu, browser-cpu, browser-webgpu, precision.
        #[arg(long, value_delimiter = ',')]
        backends: Vec<String>,
        /// Comma-separated browsers for the browser backends: chromium, firefox, edge, safari
        /// (default: chromium,firefox for kernels; chromium for minilm and cache).
        #[arg(long, value_delimiter = ',')]
        browsers: Vec<String>,
        /// Also write the HTML report here.
        #[arg(long)]
        report: Option<PathBuf>,
        /// pool: throughput is measured for 1..=sessions browser sessions.
        #[arg(long, default_value_t = 3)]
        sessions: usize,
        /// pool / shard: browser kills injected in the fault run.
        #[arg(long, default_value_t = 50)]
        faults: usize,
        /// shard: latency is measured for 1..=shards stages.
        #[arg(long, default_value_t = 3)]
        shards: usize,
    },
    /// Write a self-contained HTML report of a stored run (the newest by default).
    Report {
        #[arg(long, default_value_os_t = paths::default_db())]
        db: PathBuf,
        /// Run id (default: newest).
        #[arg(long)]
        run: Option<String>,
        #[arg(long, default_value = "results/report.html")]
        out: PathBuf,
        /// Also print the terminal table.
        #[arg(long)]
        table: bool,
    },
    /// Embed texts with one model on one native backend; print each embedding's head and the timing.
    Run {
        /// minilm (all-MiniLM-L6-v2 f32), minilm-int8 (its int8 ONNX), minilm-l3 (paraphrase-MiniLM-L3-v2 ONNX),
        /// smollm2 (SmolLM2-135M-Instruct GGUF Q4_1: text generation, needs --prompt).
        #[arg(long, default_value = "minilm")]
        model: String,
        /// smollm2: the prompt to continue.
        #[arg(long)]
        prompt: Option<String>,
        /// smollm2: wrap the prompt in the model's chat template.
        #[arg(long)]
        chat: bool,
        /// smollm2: tokens to generate.
        #[arg(long, default_value_t = 32)]
        max_tokens: usize,
        /// smollm2: 0 = greedy.
        #[arg(long, default_value_t = 0.0)]
        temperature: f32,
        #[arg(long, default_value_t = 0)]
        top_k: usize,
        #[arg(long, default_value_t = 1.0)]
        top_p: f32,
        #[arg(long, default_value_t = 1.0)]
        repetition_penalty: f32,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// smollm2: KV cache precision, f32 | q8_0 | q4_1 | q2 (the block formats on ours-cpu).
        #[arg(long, default_value = "f32")]
        kv_cache: String,
        /// ours-cpu, ours-wgpu, ort-cpu (ONNX Runtime) or candle-cpu.
        #[arg(long, default_value = "ours-cpu")]
        backend: String,
        /// How many leading values of each embedding to print.
        #[arg(long, default_value_t = 8)]
        head: usize,
        /// The texts to embed.
        texts: Vec<String>,
    },
    /// Print (or write) the manifest of a model directory: each file's CID and size, for
    /// hosting the model where `acc.load(url)` can verify and cache it.
    Manifest {
        /// The model directory (its top-level files are listed).
        #[arg(long)]
        dir: PathBuf,
        /// Model name (default: the directory's name).
        #[arg(long)]
        name: Option<String>,
        /// Write `<dir>/manifest.json` instead of printing.
        #[arg(long)]
        write: bool,
    },
    /// Run embedding requests through a pool of real browser sessions (optionally killing
    /// browsers along the way); print throughput, per-session counts, recoveries; store the run.
    Pool {
        /// Browser sessions, one per entry, e.g. chromium,chromium,firefox (default: 2 × chromium).
        #[arg(long, value_delimiter = ',')]
        browsers: Vec<String>,
        #[arg(long, default_value_t = 32)]
        requests: usize,
        /// Requests in flight at once (default: 2 per session).
        #[arg(long)]
        in_flight: Option<usize>,
        /// Kill a browser (sessions in turn) after every N completed requests.
        #[arg(long)]
        kill_every: Option<usize>,
        /// Preferred browser per model type, e.g. text-embedding=firefox (beats measured history).
        #[arg(long, value_delimiter = ',')]
        prefer: Vec<String>,
        /// The text each request embeds (all-MiniLM-L6-v2).
        #[arg(long, default_value = "The quick brown fox jumps over the lazy dog.")]
        text: String,
        #[arg(long, default_value_os_t = paths::default_db())]
        db: PathBuf,
    },
    /// Embed texts with all-MiniLM-L6-v2 split over several browser sessions (layers in
    /// contiguous ranges, activations over loopback WebSockets); print the plan, heads, timing.
    Shard {
        /// Stages (browser sessions); the 6 layers are split evenly.
        #[arg(long, default_value_t = 2)]
        shards: usize,
        /// Browser for every stage.
        #[arg(long, default_value = "chromium")]
        browser: String,
        #[arg(long, default_value_t = 8)]
        head: usize,
        #[arg(required = true)]
        texts: Vec<String>,
    },
    /// Serve the runner page and wasm package on loopback until interrupted (for debugging).
    Serve,
}

#[tokio::main]
async fn main() {
    if let Err(e) = run(Cli::parse()).await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Doctor { json, no_launch } => {
            let server = if no_launch { None } else { RunnerServer::start(paths::wasm_pkg_dir()).await.map_err(warn).ok() };
            let report = doctor::collect(server.as_ref().map(|s| s.url()).as_deref()).await;
            if json {
                println!("{}", serde_json::to_string_pretty(&report).map_err(|e| HostError::Invalid(e.to_string()))?);
            } else {
                print!("{}", report.render());
            }
            Ok(())
        }
        Command::Bench { suite, db, warmup, samples, backends, browsers, report, sessions, faults, shards } => {
            let command = std::env::args().collect::<Vec<_>>().join(" ");
            let record = match suite.as_str() {
                "kernels" | "kernels-smoke" => {
                    let browsers = if browsers.is_empty() { vec!["chromium".into(), "firefox".into()] } else { browsers };
                    let selection = selection(&backends, &browsers)?;
                    let cases = if suite == "kernels" { kernels::suite(warmup, samples) } else { kernels::smoke(warmup, samples) };
                    // Open the store first: a bad --db path fails before minutes of benchmarking.
                    Store::open(&db)?;
                    bench::run_suite(&suite, &command, &cases, &selection).await?
                }
                "minilm" => {
                    let browsers = if browsers.is_empty() { vec!["chromium".into()] } else { browsers };
                    let opts = minilm_options(&backends, &browsers, warmup, samples)?;
                    Store::open(&db)?;
                    bench::minilm::run_suite(&command, &opts).await?
                }
                "cache" => {
                    let browsers = if browsers.is_empty() { vec!["chromium".into()] } else { browsers };
                    let labels: Vec<&str> = bench::cache::BACKENDS.iter().map(|(l, _)| *l).collect();
                    let backends = checked_backends(&backends, &labels)?;
                    let opts = bench::cache::Options { warmup, samples, backends, browsers: parse_browsers(&browsers)? };
                    Store::open(&db)?;
                    bench::cache::run_suite(&command, &opts).await?
                }
                "pool" => {
                    let browsers = if browsers.is_empty() { vec!["chromium".into()] } else { browsers };
                    let backends = checked_backends(&backends, &["browser-cpu"])?;
                    let suite = bench::SuiteOptions { warmup, samples, backends, browsers: parse_browsers(&browsers)? };
                    Store::open(&db)?;
                    bench::pool::run_suite(&command, &bench::pool::PoolOptions { suite, sessions, faults }).await?
                }
                "shard" => {
                    let browsers = if browsers.is_empty() { vec!["chromium".into()] } else { browsers };
                    let backends = checked_backends(&backends, &["browser-cpu"])?;
                    let suite = bench::SuiteOptions { warmup, samples, backends, browsers: parse_browsers(&browsers)? };
                    Store::open(&db)?;
                    bench::shard::run_suite(&command, &bench::shard::ShardOptions { suite, shards, faults }).await?
                }
                "llm" => {
                    let browsers = if browsers.is_empty() { vec!["chromium".into()] } else { browsers };
                    let backends = checked_backends(&backends, &bench::llm::BACKENDS)?;
                    let opts = bench::SuiteOptions { warmup, samples, backends, browsers: parse_browsers(&browsers)? };
                    Store::open(&db)?;
                    bench::llm::run_suite(&command, &opts).await?
                }
                other => {
                    return Err(HostError::Invalid(format!(
                        "unknown suite {other:?}; available: kernels, kernels-smoke, minilm, cache, pool, shard, llm"
                    )))
                }
            };
            let mut store = Store::open(&db)?;
            store.insert_run(&record)?;
            let view = RunView::load(&store, Some(&record.run_id))?;
            print!("{}", render_table(&view));
            println!("\nstored run {} in {}", record.run_id, db.display());
            if let Some(path) = report {
                write_report(&view, &path)?;
            }
            Ok(())
        }
        Command::Manifest { dir, name, write } => write_manifest(&dir, name, write),
        Command::Shard { shards, browser, head, texts } => run_shard(shards, &browser, head, &texts).await,
        Command::Pool { browsers, requests, in_flight, kill_every, prefer, text, db } => {
            run_pool(browsers, requests, in_flight, kill_every, &prefer, text, &db).await
        }
        Command::Report { db, run, out, table } => {
            if !db.is_file() {
                return Err(HostError::Invalid(format!("{} does not exist; run `accelerate bench` first", db.display())));
            }
            let store = Store::open(&db)?;
            let view = RunView::load(&store, run.as_deref())?;
            if table {
                print!("{}", render_table(&view));
            }
            write_report(&view, &out)
        }
        Command::Run {
            model,
            prompt,
            chat,
            max_tokens,
            temperature,
            top_k,
            top_p,
            repetition_penalty,
            seed,
            kv_cache,
            backend,
            head,
            texts,
        } => {
            if model == "smollm2" {
                let prompt = prompt.ok_or_else(|| HostError::Invalid("--model smollm2 needs --prompt TEXT".into()))?;
                let sampling = ipfs_accelerate::models::llama::Sampling { temperature, top_k, top_p, repetition_penalty, seed };
                let kv = match kv_cache.as_str() {
                    "f32" => ipfs_accelerate::DType::F32,
                    "q8_0" => ipfs_accelerate::DType::Q8_0,
                    "q4_1" => ipfs_accelerate::DType::Q4_1,
                    "q2" => ipfs_accelerate::DType::Q2,
                    other => return Err(HostError::Invalid(format!("--kv-cache {other:?}: expected f32, q8_0, q4_1 or q2"))),
                };
                print!("{}", ipfs_accelerate_host::generate_command::run(&backend, &prompt, chat, max_tokens, sampling, kv).await?);
                return Ok(());
            }
            if texts.is_empty() {
                return Err(HostError::Invalid(format!("--model {model} needs at least one text to embed")));
            }
            print!("{}", ipfs_accelerate_host::run_command::run(&model, &backend, &texts, head).await?);
            Ok(())
        }
        Command::Serve => {
            let server = RunnerServer::start(paths::wasm_pkg_dir()).await?;
            println!("runner at {} (Ctrl-C to stop)", server.url());
            let _ = tokio::signal::ctrl_c().await;
            Ok(())
        }
    }
}

fn warn(e: HostError) -> HostError {
    eprintln!("warning: browsers will not be probed: {e}");
    e
}

fn parse_browsers(browsers: &[String]) -> Result<Vec<BrowserKind>> {
    browsers
        .iter()
        .filter(|b| !b.is_empty() && *b != "none")
        .map(|b| {
            BrowserKind::parse(b)
                .ok_or_else(|| HostError::Invalid(format!("unknown browser {b:?}; known: chromium, firefox, edge, safari")))
        })
        .collect()
}

/// `backends` checked against `known`; empty means all of them.
fn checked_backends(backends: &[String], known: &[&str]) -> Result<Vec<String>> {
    if let Some(bad) = backends.iter().find(|b| !known.contains(&b.as_str())) {
        return Err(HostError::Invalid(format!("unknown backend {bad:?}; known: {}", known.join(", "))));
    }
    Ok(if backends.is_empty() { known.iter().map(|s| s.to_string()).collect() } else { backends.to_vec() })
}

fn minilm_options(backends: &[String], browsers: &[String], warmup: u32, samples: u32) -> Result<bench::minilm::Options> {
    let backends = checked_backends(backends, &bench::minilm::backend_labels())?;
    Ok(bench::minilm::Options { warmup, samples, backends, browsers: parse_browsers(browsers)? })
}

fn selection(backends: &[String], browsers: &[String]) -> Result<BackendSelection> {
    let backends = checked_backends(backends, &["native-cpu", "native-wgpu", "browser-cpu", "browser-webgpu"])?;
    let has = |b: &str| backends.iter().any(|x| x == b);
    let browsers = parse_browsers(browsers)?;
    Ok(BackendSelection {
        native_cpu: has("native-cpu"),
        native_wgpu: has("native-wgpu"),
        browsers,
        browser_cpu: has("browser-cpu"),
        browser_webgpu: has("browser-webgpu"),
    })
}

async fn run_pool(
    browsers: Vec<String>,
    requests: usize,
    in_flight: Option<usize>,
    kill_every: Option<usize>,
    prefer: &[String],
    text: String,
    db: &Path,
) -> Result<()> {
    use ipfs_accelerate_host::pool::{drive, BrowserPool, EmbedRequest, Placement, PoolConfig};
    let browsers = if browsers.is_empty() { vec!["chromium".into(), "chromium".into()] } else { browsers };
    let kinds = parse_browsers(&browsers)?;
    let mut placement = Placement::default();
    for p in prefer {
        let (model_type, browser) =
            p.split_once('=').ok_or_else(|| HostError::Invalid(format!("--prefer {p:?}: expected TYPE=BROWSER")))?;
        placement.preferences.insert(model_type.into(), parse_browsers(&[browser.to_string()])?[0]);
    }
    // Measured history: which browser ran this model fastest in earlier minilm benchmarks.
    let history = Store::open(db)?.browser_history("minilm", "b1×short", "browser-cpu")?;
    let placement = placement.with_history(&history);
    println!("placement: preferences {:?}, browsers by measured speed {:?}", placement.preferences, placement.history);
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let started = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
    let server = RunnerServer::start(paths::wasm_pkg_dir()).await?;
    let pool = BrowserPool::start(PoolConfig { browsers: kinds.clone(), placement, ..PoolConfig::default() }, &server.url()).await?;
    let request = EmbedRequest::new("/models/all-minilm-l6-v2/", vec![text]);
    let faults = kill_every.map(|every| ipfs_accelerate_host::pool::Faults { every, kills: requests / every.max(1) });
    let report = drive(&pool, &request, requests, in_flight.unwrap_or(2 * kinds.len()), faults).await;
    for slot in pool.slots() {
        let h = slot.health().clone();
        println!(
            "session {} ({}): served {}, failures {}, restarts {}",
            slot.id,
            slot.kind.name(),
            slot.served.load(std::sync::atomic::Ordering::SeqCst),
            h.failures,
            h.restarts
        );
    }
    println!(
        "{}/{} requests completed in {:.0} ms ({:.1} req/s); {} kills, recoveries {:?} ms",
        report.completed.len(),
        report.completed.len() + report.failed.len(),
        report.wall_ms,
        report.requests_per_second(),
        report.kills,
        report.recoveries_ms.iter().map(|r| r.round()).collect::<Vec<_>>()
    );
    for e in &report.failed {
        println!("failed: {e}");
    }
    pool.shutdown().await;
    let shape = format!("{} requests over {} session(s)", requests, kinds.len());
    let case = bench::pool::drive_case(&shape, &report, serde_json::json!({ "browsers": browsers }));
    let adapter =
        ipfs_accelerate::AdapterSummary { name: "pool of headless browser sessions".into(), backend: "cpu".into(), ..Default::default() };
    let mut env = bench::record::EnvRecord::new("browser-cpu", adapter, vec![case]);
    env.browser = Some(kinds[0].name().into());
    let record = bench::pool::pool_run_record(&command, started, env);
    let mut store = Store::open(db)?;
    store.insert_run(&record)?;
    println!("stored run {} in {}", record.run_id, db.display());
    Ok(())
}

async fn run_shard(shards: usize, browser: &str, head: usize, texts: &[String]) -> Result<()> {
    use ipfs_accelerate_host::shard::{balanced, ShardedModel};
    let kind = parse_browsers(&[browser.to_string()])?[0];
    let install = ipfs_accelerate_host::browser::detect_all()
        .into_iter()
        .find(|d| d.kind == kind)
        .and_then(|d| d.install.ok())
        .ok_or_else(|| HostError::Invalid(format!("{browser} is not installed")))?;
    let server = RunnerServer::start(paths::wasm_pkg_dir()).await?;
    let plan = balanced(&[1.0; 6], shards);
    println!("plan: {plan:?} (layers per stage)");
    let mut model = ShardedModel::start(&server, &install, "/models/all-minilm-l6-v2/", None, plan).await?;
    let run = model.embed(texts).await;
    model.shutdown().await;
    let run = run?;
    for (text, e) in texts.iter().zip(&run.embeddings) {
        println!("{:?}: {:?}", text, &e[..head.min(e.len())]);
    }
    println!("{:.1} ms over {} stage(s)", run.latency_ms, shards.clamp(1, 6));
    Ok(())
}

fn write_manifest(dir: &Path, name: Option<String>, write: bool) -> Result<()> {
    use ipfs_accelerate_host::error::Context;
    let name = name.or_else(|| dir.file_name().map(|n| n.to_string_lossy().into_owned())).unwrap_or_default();
    let manifest = ipfs_accelerate::store::ModelManifest::for_dir(&name, dir).map_err(|e| HostError::Invalid(e.to_string()))?;
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| HostError::Invalid(e.to_string()))?;
    if !write {
        println!("{text}");
        return Ok(());
    }
    let (tmp, path) = (dir.join("manifest.json.partial"), dir.join("manifest.json"));
    std::fs::write(&tmp, text).context(format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).context(format!("moving the manifest into {}", path.display()))?;
    println!("wrote {} ({} files)", path.display(), manifest.files.len());
    Ok(())
}

/// Write the report next to nothing half-done: a temp file renamed into place.
fn write_report(view: &RunView, path: &Path) -> Result<()> {
    use ipfs_accelerate_host::error::Context;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).context(format!("creating {}", parent.display()))?;
    }
    let tmp = path.with_extension("html.partial");
    std::fs::write(&tmp, render_html(view)).context(format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).context(format!("moving report into {}", path.display()))?;
    println!("report: {}", path.display());
    Ok(())
}
