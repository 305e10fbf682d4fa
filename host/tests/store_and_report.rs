//! The DuckDB store (real embedded DuckDB, real file) and the reports built from it.

#[path = "support/scratch_dir.rs"]
mod scratch_dir;
use ipfs_accelerate::bench::Kernel;
use ipfs_accelerate_host::bench::{kernels, run_suite, BackendSelection};
use ipfs_accelerate_host::report::{render_html, render_table, RunView};
use ipfs_accelerate_host::store::Store;
use scratch_dir::ScratchDir;

fn native_only() -> BackendSelection {
    BackendSelection { native_cpu: true, native_wgpu: true, native_candle: false, browsers: vec![], browser_backends: vec![] }
}

/// A database path in a directory that does not exist yet (the store makes it), inside the
/// test's scratch directory.
fn temp_db(name: &str) -> (ScratchDir, std::path::PathBuf) {
    let dir = ScratchDir::new(&format!("test-{name}"));
    let path = dir.join("nested").join("bench.duckdb");
    (dir, path)
}

#[tokio::test]
async fn a_native_run_is_stored_whole_and_reads_back() {
    let (_dir, path) = temp_db("roundtrip");
    let mut store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), 4);
    let cases = kernels::smoke(1, 4);
    let run = run_suite("kernels-smoke", "test", &cases, &native_only()).await.unwrap();
    store.insert_run(&run).unwrap();
    drop(store);

    // Reopening applies no migration twice and sees the run.
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), 4);
    let view = RunView::load(&store, None).unwrap();
    assert_eq!(view.run.run_id, run.run_id);
    assert_eq!(view.envs.len(), 2);
    assert_eq!(view.cases.len(), 2 * cases.len());
    assert_eq!(store.sample_count(&run.run_id).unwrap(), (2 * cases.len() * 4) as i64);
    for c in &view.cases {
        assert_eq!(c.status, "ok", "{} {} on env {}: {:?}", c.kernel, c.shape, c.env_id, c.error);
        assert!(c.median_ms.is_some() && c.max_abs_err.is_some());
    }
    // lavapipe/llvmpipe is a software adapter and must be stored as one.
    let wgpu = view.envs.iter().find(|e| e.backend == "native-wgpu").unwrap();
    if wgpu.adapter_name.contains("llvmpipe") {
        assert!(wgpu.software_adapter);
    }
    let table = render_table(&view);
    assert!(table.contains("native-cpu") && table.contains("matmul"), "{table}");
    let html = render_html(&view);
    assert!(html.contains("<svg"), "charts are inline SVG");
    assert!(!html.contains("<script") && !html.contains("src=\"http") && !html.contains("href=\"http"), "report must be self-contained");
    if wgpu.software_adapter {
        assert!(html.contains("software adapter"));
    }
}

#[tokio::test]
async fn a_run_that_fails_midway_leaves_nothing_behind() {
    let mut store = Store::open_in_memory().unwrap();
    let cases = kernels::smoke(0, 2);
    let mut run = run_suite("kernels-smoke", "test", &cases, &native_only()).await.unwrap();
    // Corrupt the last case of the last environment: the schema rejects negative durations,
    // so the insert fails after the run, its environments and most cases were written.
    let last = run.environments.last_mut().unwrap().cases.last_mut().unwrap();
    last.samples_ms.push(-1.0);
    let err = store.insert_run(&run).unwrap_err().to_string();
    assert!(err.contains("sample") || err.contains("CHECK"), "{err}");
    assert!(store.run(None).unwrap_err().to_string().contains("no runs"));
}

#[test]
fn unknown_run_ids_and_empty_databases_are_named_errors() {
    let store = Store::open_in_memory().unwrap();
    assert!(store.run(None).unwrap_err().to_string().contains("accelerate bench"));
    assert!(store.run(Some("nope")).unwrap_err().to_string().contains("\"nope\""));
}

#[test]
fn wrong_outputs_are_recorded_as_mismatch_not_ok() {
    use ipfs_accelerate_host::bench::check::{record, References};
    let cases = vec![ipfs_accelerate::bench::KernelCase { kernel: Kernel::Gelu { len: 16 }, warmup: 0, samples: 1, seed: 3 }];
    let refs = References::compute(&cases);
    let mut output = cases[0].kernel.reference_output(3).unwrap();
    let good = record(&cases[0], 0, &refs, vec![1.0], &output);
    assert_eq!(good.status.as_str(), "ok");
    output[5] += 0.01;
    let bad = record(&cases[0], 0, &refs, vec![1.0], &output);
    assert_eq!(bad.status.as_str(), "mismatch");
    assert!(bad.error.unwrap().contains("exceeds tolerance"));
    let short = record(&cases[0], 0, &refs, vec![1.0], &output[..3]);
    assert_eq!(short.status.as_str(), "mismatch");
}

#[test]
fn browser_history_ranks_browsers_by_their_stored_medians() {
    use ipfs_accelerate_host::bench::record::{CaseRecord, CaseStatus, EnvRecord};
    use ipfs_accelerate_host::bench::stats::Stats;
    let mut store = ipfs_accelerate_host::store::Store::open_in_memory().unwrap_or_else(|e| panic!("{e}"));
    let env = |browser: &str, ms: f64| {
        let samples = vec![ms, ms + 1.0, ms - 1.0];
        let case = CaseRecord {
            kernel: "minilm".into(),
            shape: "b1×short".into(),
            params_json: "{}".into(),
            warmup: 0,
            stats: Stats::of(&samples),
            samples_ms: samples,
            gflops: None,
            max_abs_err: None,
            max_rel_err: None,
            tolerance: 1e-4,
            status: CaseStatus::Ok,
            error: None,
        };
        let mut e = EnvRecord::new("browser-cpu", Default::default(), vec![case]);
        e.browser = Some(browser.into());
        e
    };
    let record = ipfs_accelerate_host::bench::pool::pool_run_record("test", 0.0, env("chromium", 30.0));
    store.insert_run(&record).unwrap_or_else(|e| panic!("{e}"));
    let mut faster = ipfs_accelerate_host::bench::pool::pool_run_record("test", 1.0, env("firefox", 12.0));
    faster.run_id.push('b');
    store.insert_run(&faster).unwrap_or_else(|e| panic!("{e}"));
    let ranked = store.browser_history("minilm", "b1×short", "browser-cpu").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ranked.iter().map(|(b, _)| b.as_str()).collect::<Vec<_>>(), ["firefox", "chromium"]);
    assert!(store.browser_history("minilm", "b8×128", "browser-cpu").unwrap_or_default().is_empty());
}

/// candle's row of the kernels suite meets the same f64 reference as ours, case by case.
#[tokio::test]
async fn candles_kernels_row_is_checked_against_the_same_reference() {
    let selection =
        BackendSelection { native_cpu: false, native_wgpu: false, native_candle: true, browsers: vec![], browser_backends: vec![] };
    let run = run_suite("kernels-smoke", "test", &kernels::smoke(1, 3), &selection).await.unwrap();
    assert_eq!(run.environments.len(), 1);
    let env = &run.environments[0];
    assert_eq!(env.backend, "native-candle-cpu");
    assert_eq!(env.cases.len(), 3);
    for c in &env.cases {
        assert_eq!(c.status.as_str(), "ok", "{} {}: {:?}", c.kernel, c.shape, c.error);
        assert!(c.max_abs_err.is_some_and(|e| e <= c.tolerance), "{} {}: {:?}", c.kernel, c.shape, c.max_abs_err);
        assert_eq!(c.samples_ms.len(), 3);
    }
}
