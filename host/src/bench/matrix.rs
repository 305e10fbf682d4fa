//! `accelerate bench --matrix FILE.toml`: models × backends × browsers × dtypes × shapes of the
//! MiniLM suite, as cells (browser, backend, model) run side by side on as many sessions as the
//! file's `parallel` allows — over a grid with `--webdriver`, each on whichever node the grid
//! picks (recorded per run). Every cell is stored as its own run, tagged with the matrix, as
//! soon as it finishes; run again, the matrix skips the cases already stored.

use super::minilm::{self, WORKLOAD_LABELS};
use super::record::RunRecord;
use super::run::{epoch_seconds, finished_run};
use super::{progress, Only, SuiteOptions};
use crate::backends::models::{weight_dtype, ModelSpec};
use crate::browser::{detect, BrowserKind};
use crate::error::{HostError, Result};
use crate::server::RunnerServer;
use futures_util::stream::{self, StreamExt};
use serde::Deserialize;
use std::path::Path;

/// The file's contents. Unknown keys are an error (a typo must not silently shrink a matrix).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatrixSpec {
    /// Identifies the matrix in the database: resuming means running the same name again.
    pub name: String,
    #[serde(default = "default_suite")]
    pub suite: String,
    pub models: Vec<String>,
    /// minilm backend labels; `dtypes` picks each one's int8 variant where one exists.
    pub backends: Vec<String>,
    /// Browsers for the browser backends.
    #[serde(default)]
    pub browsers: Vec<String>,
    #[serde(default = "default_dtypes")]
    pub dtypes: Vec<String>,
    /// Workloads: b1×short, b1×128, b8×short, b8×128 (`x` for `×` is accepted).
    pub shapes: Vec<String>,
    #[serde(default = "default_warmup")]
    pub warmup: u32,
    #[serde(default = "default_samples")]
    pub samples: u32,
    /// Cells run at once (each in its own browser session).
    #[serde(default = "default_parallel")]
    pub parallel: usize,
}

fn default_suite() -> String {
    "minilm".into()
}
fn default_dtypes() -> Vec<String> {
    vec!["f32".into()]
}
fn default_warmup() -> u32 {
    3
}
fn default_samples() -> u32 {
    10
}
fn default_parallel() -> usize {
    1
}

/// One cell: a backend (its dtype variant) on a browser (None: native) running a model's shapes.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub browser: Option<BrowserKind>,
    pub backend: String,
    pub model: String,
    pub shapes: Vec<String>,
}

impl Cell {
    /// `chromium browser-cpu minilm-l3`: the tag of its stored runs.
    pub fn key(&self) -> String {
        format!("{} {} {}", self.browser.map_or("native", BrowserKind::name), self.backend, self.model)
    }
}

/// The plan: cells to run, and combinations that cannot exist (said, not silently dropped).
#[derive(Debug, Default)]
pub struct Plan {
    pub cells: Vec<Cell>,
    pub impossible: Vec<String>,
}

pub fn load(path: &Path) -> Result<MatrixSpec> {
    let text = std::fs::read_to_string(path).map_err(|e| HostError::Invalid(format!("--matrix {}: {e}", path.display())))?;
    toml::from_str(&text).map_err(|e| HostError::Invalid(format!("--matrix {}: {e}", path.display())))
}

/// Expand the file into cells, checking every name against what the suite knows.
pub fn plan(spec: &MatrixSpec) -> Result<Plan> {
    let bad = |what: &str, got: &str, known: &[&str]| {
        HostError::Invalid(format!("matrix {}: unknown {what} {got:?}; known: {}", spec.name, known.join(", ")))
    };
    if spec.suite != "minilm" {
        return Err(bad("suite", &spec.suite, &["minilm"]));
    }
    if spec.name.trim().is_empty() || spec.parallel == 0 {
        return Err(HostError::Invalid("matrix: `name` must not be empty and `parallel` must be at least 1".into()));
    }
    ipfs_accelerate::bench::check_counts(spec.warmup, spec.samples, ipfs_accelerate::core::OptionStyle::Cli)?;
    let labels = minilm::backend_labels();
    let model_names: Vec<&str> = crate::backends::MODELS.iter().map(|m| m.name).collect();
    for m in &spec.models {
        ModelSpec::find(m).map_err(|_| bad("model", m, &model_names))?;
    }
    for b in &spec.backends {
        if !labels.contains(&b.as_str()) {
            return Err(bad("backend", b, &labels));
        }
    }
    for d in &spec.dtypes {
        if d != "f32" && d != "int8" {
            return Err(bad("dtype", d, &["f32", "int8"]));
        }
    }
    let shapes: Vec<String> = spec.shapes.iter().map(|s| s.replace('x', "×")).collect();
    for s in &shapes {
        if !WORKLOAD_LABELS.contains(&s.as_str()) {
            return Err(bad("shape", s, &WORKLOAD_LABELS));
        }
    }
    let browsers = spec
        .browsers
        .iter()
        .map(|b| BrowserKind::parse(b).ok_or_else(|| bad("browser", b, &BrowserKind::ALL.map(BrowserKind::name))))
        .collect::<Result<Vec<_>>>()?;
    let mut plan = Plan::default();
    for backend in &spec.backends {
        let native = backend.starts_with("native-");
        let places: Vec<Option<BrowserKind>> = if native { vec![None] } else { browsers.iter().copied().map(Some).collect() };
        if places.is_empty() {
            return Err(HostError::Invalid(format!("matrix {}: {backend} runs in a browser; list `browsers`", spec.name)));
        }
        for dtype in &spec.dtypes {
            for model in &spec.models {
                // The backend itself or its `-int8` variant, whichever runs this model with these weights.
                let variant = [backend.clone(), format!("{backend}-int8")]
                    .into_iter()
                    .find(|l| labels.contains(&l.as_str()) && weight_dtype(model, l) == dtype);
                let Some(variant) = variant else {
                    plan.impossible.push(format!("{backend} has no {dtype} variant for {model}"));
                    continue;
                };
                for &browser in &places {
                    let cell = Cell { browser, backend: variant.clone(), model: model.clone(), shapes: shapes.clone() };
                    if !plan.cells.contains(&cell) {
                        plan.cells.push(cell);
                    }
                }
            }
        }
    }
    Ok(plan)
}

/// What a matrix run did.
#[derive(Debug, Default)]
pub struct MatrixReport {
    /// (cell key, run id, grid node) of each cell run now.
    pub ran: Vec<(String, String, Option<String>)>,
    /// Cells whose every shape was already stored.
    pub skipped: Vec<String>,
    pub impossible: Vec<String>,
}

/// Cases a matrix has already stored: (browser or "native", backend, model, workload).
pub type Done = std::collections::HashSet<(String, String, String, String)>;

/// Run what `done` does not hold yet, `spec.parallel` cells at a time, handing each finished
/// cell's run to `store` at once (so an interruption loses at most the cells in flight).
pub async fn run(
    spec: &MatrixSpec,
    done: &Done,
    command: &str,
    mut store: impl FnMut(&Cell, &RunRecord) -> Result<()>,
) -> Result<MatrixReport> {
    let plan = plan(spec)?;
    let mut report = MatrixReport { impossible: plan.impossible, ..MatrixReport::default() };
    let mut todo = Vec::new();
    for mut cell in plan.cells {
        let place = cell.browser.map_or("native", BrowserKind::name).to_string();
        cell.shapes.retain(|s| !done.contains(&(place.clone(), cell.backend.clone(), cell.model.clone(), s.clone())));
        if cell.shapes.is_empty() {
            report.skipped.push(cell.key());
        } else {
            todo.push(cell);
        }
    }
    let server =
        if todo.iter().any(|c| c.browser.is_some()) { Some(RunnerServer::start(crate::paths::wasm_pkg_dir()).await?) } else { None };
    let runner_url = server.as_ref().map(|s| s.url()).unwrap_or_default();
    let mut results = stream::iter(todo).map(|cell| run_cell(spec, cell, &runner_url, command)).buffer_unordered(spec.parallel);
    while let Some((cell, record)) = results.next().await {
        let record = record?;
        store(&cell, &record)?;
        let node = record.environments.first().and_then(|e| e.webdriver_node.clone());
        progress(format!("matrix {}: stored {} as run {}", spec.name, cell.key(), record.run_id));
        report.ran.push((cell.key(), record.run_id, node));
    }
    Ok(report)
}

async fn run_cell(spec: &MatrixSpec, cell: Cell, runner_url: &str, command: &str) -> (Cell, Result<RunRecord>) {
    let started = epoch_seconds();
    let opts = SuiteOptions {
        warmup: spec.warmup,
        samples: spec.samples,
        backends: vec![cell.backend.clone()],
        browsers: cell.browser.into_iter().collect(),
        only: Only { models: vec![cell.model.clone()], workloads: cell.shapes.clone() },
        quick: false,
    };
    let result = async {
        let install = match cell.browser {
            Some(kind) => Some(detect(kind).map_err(|why| HostError::Browser { browser: kind.name().into(), message: why })?),
            None => None,
        };
        let env = minilm::run_backend(&cell.backend, install.as_ref(), runner_url, &opts).await?;
        Ok(finished_run("minilm", command, started, vec![env]))
    }
    .await;
    (cell, result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(toml_text: &str) -> Result<MatrixSpec> {
        toml::from_str(toml_text).map_err(|e| HostError::Invalid(e.to_string()))
    }

    #[test]
    fn a_matrix_expands_into_cells_with_dtype_variants_and_says_what_cannot_exist() {
        let s = spec(
            r#"name = "m"
               models = ["minilm-l3", "minilm-int8"]
               backends = ["native-cpu", "browser-cpu", "browser-webgpu"]
               browsers = ["chromium", "firefox"]
               dtypes = ["f32", "int8"]
               shapes = ["b1xshort", "b8×128"]"#,
        )
        .unwrap();
        let p = plan(&s).unwrap();
        let keys: Vec<String> = p.cells.iter().map(Cell::key).collect();
        assert!(
            keys.contains(&"native native-cpu minilm-l3".into()) && keys.contains(&"native native-cpu-int8 minilm-l3".into()),
            "{keys:?}"
        );
        assert!(keys.contains(&"native native-cpu minilm-int8".into()), "the int8 file on the plain backend is an int8 cell: {keys:?}");
        assert!(keys.contains(&"firefox browser-cpu-int8 minilm-l3".into()), "{keys:?}");
        assert!(p.impossible.iter().any(|i| i == "browser-webgpu has no int8 variant for minilm-l3"), "{:?}", p.impossible);
        assert!(p.impossible.iter().any(|i| i == "native-cpu has no f32 variant for minilm-int8"), "{:?}", p.impossible);
        assert_eq!(p.cells[0].shapes, ["b1×short", "b8×128"]);
        assert_eq!(keys.len(), keys.iter().collect::<std::collections::HashSet<_>>().len(), "no cell twice");
    }

    #[test]
    fn unknown_names_and_keys_are_errors_that_list_what_is_known() {
        let base =
            |extra: &str| format!("name = \"m\"\nmodels = [\"minilm\"]\nbackends = [\"native-cpu\"]\nshapes = [\"b1×short\"]\n{extra}");
        let err = |text: &str| spec(text).and_then(|s| plan(&s)).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err(&base("dtypes = [\"f16\"]")).contains("unknown dtype \"f16\""));
        assert!(err(&base("suite = \"llm\"")).contains("unknown suite"));
        assert!(err(&base("typo = 1")).contains("typo"), "unknown keys are refused");
        assert!(err(&base("").replace("b1×short", "b2×short")).contains("b8×128"), "the error lists the shapes");
        assert!(err(&base("").replace("native-cpu", "browser-cpu")).contains("list `browsers`"));
        assert!(err(&base("parallel = 0")).contains("parallel"));
    }
}
