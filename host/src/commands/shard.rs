//! `accelerate shard`: embed texts with all-MiniLM-L6-v2 split over several browser sessions,
//! each loading only its layers' weights.

use crate::bench::options::{parse_browser, DEFAULT_BROWSER};
use crate::byte_size::parse_byte_size;
use crate::server::RunnerServer;
use crate::shard::{balanced, check_budget, within_budget, PartSizes, ShardSpec, ShardedModel};
use crate::{paths, HostError, Result};

const MODEL_DIR: &str = "all-minilm-l6-v2";

#[derive(clap::Args)]
pub struct Args {
    /// Stages (browser sessions); the 6 layers are split evenly. Default 2, or with
    /// --stage-budget the fewest stages that fit it.
    #[arg(long)]
    shards: Option<usize>,
    /// Weight bytes one stage may hold (e.g. 56MiB): a stage over it refuses to load.
    #[arg(long)]
    stage_budget: Option<String>,
    /// Browser for every stage.
    #[arg(long, default_value = DEFAULT_BROWSER.name())]
    browser: String,
    #[arg(long, default_value_t = 8)]
    head: usize,
    #[arg(required = true)]
    texts: Vec<String>,
}

pub async fn run(Args { shards, stage_budget, browser, head, texts }: Args) -> Result<()> {
    let kind = parse_browser(&browser)?;
    let budget = stage_budget.as_deref().map(parse_byte_size).transpose()?;
    let sizes = PartSizes::of_dir(&paths::model_cache().join(MODEL_DIR))?;
    let plan = match (shards, budget) {
        (None, Some(budget)) => within_budget(&sizes, budget)?,
        (shards, budget) => {
            let plan = balanced(&vec![1.0; sizes.layers.len()], shards.unwrap_or(2));
            budget.map(|b| check_budget(&sizes, &plan, b)).transpose()?;
            plan
        }
    };
    let install = crate::browser::detect_all()
        .into_iter()
        .find(|d| d.kind == kind)
        .and_then(|d| d.install.ok())
        .ok_or_else(|| HostError::Invalid(format!("{browser} is not installed")))?;
    let server = RunnerServer::start(paths::wasm_pkg_dir()).await?;
    println!("plan: {plan:?} (layers per stage; the first also holds the embeddings)");
    let spec = ShardSpec { stage_budget: budget, ..ShardSpec::new(&format!("/models/{MODEL_DIR}/")) };
    let mut model = ShardedModel::start(&server, &install, &spec, plan.clone()).await?;
    let run = model.embed(&texts).await;
    let reports = model.stage_reports();
    model.shutdown().await;
    let run = run?;
    for (text, e) in texts.iter().zip(&run.embeddings) {
        println!("{:?}: {:?}", text, &e[..head.min(e.len())]);
    }
    let mib = |b: f64| b / f64::from(1 << 20);
    for (layers, report) in plan.iter().zip(&reports) {
        if let Some(r) = report {
            println!(
                "stage {layers:?}: {:.1} MiB of weights fetched, {:.1} MiB held, wasm memory {:.1} MiB",
                mib(r.part_bytes),
                mib(r.held_bytes),
                mib(r.wasm_memory_bytes)
            );
        }
    }
    println!("{:.1} ms over {} stage(s); the whole model is {:.1} MiB", run.latency_ms, plan.len(), mib(sizes.total() as f64));
    Ok(())
}
