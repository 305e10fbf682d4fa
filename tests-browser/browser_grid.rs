//! Selenium Grid 4 for real: `accelerate grid up --nodes 3` (hub + 3 nodes, java, on loopback),
//! a benchmark whose Chromium and Firefox sessions are created on the grid and stored in
//! DuckDB with the node that ran each, a benchmark matrix spread over the grid, a pool of 4
//! grid sessions serving 200 requests while one node's java process is SIGKILLed (0 lost), a
//! model sharded over the two nodes left whose stage's node dies whole (java, driver and
//! browser: a machine gone) between requests and is replaced on the other, and `grid down` leaving
//! no grid, driver or browser process behind.

use ipfs_accelerate_host::browser::{detect_all, use_webdriver_endpoints, BrowserKind};
use ipfs_accelerate_host::paths::wasm_pkg_dir;
use ipfs_accelerate_host::pool::{drive, BrowserPool, EmbedRequest, PoolConfig};
use ipfs_accelerate_host::server::RunnerServer;
use ipfs_accelerate_host::shard::{balanced, ShardSpec, ShardedModel};
use ipfs_accelerate_host::store::Store;
use std::process::Command;
use std::time::Duration;

fn accelerate(args: &[&str], grid_dir: &std::path::Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_accelerate")).args(args).env("ACCELERATE_GRID_DIR", grid_dir).output().unwrap();
    (out.status.code().unwrap_or(-1), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// Live processes in any of these process groups (each grid process leads its own, and the
/// drivers and browsers a node starts stay in it).
fn processes_in_groups(groups: &[u32]) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        // Fields after the parenthesised name: state, ppid, pgrp, …
        let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or_default();
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        let zombie = fields.first() == Some(&"Z");
        if !zombie && fields.get(2).and_then(|g| g.parse::<u32>().ok()).is_some_and(|g| groups.contains(&g)) {
            found.push(pid);
        }
    }
    found
}

/// Brings the grid down even when an assertion fails half-way.
struct GridGuard(std::path::PathBuf);

impl Drop for GridGuard {
    fn drop(&mut self) {
        let _ = accelerate(&["grid", "down"], &self.0);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bench_pool_and_shard_run_over_a_grid_and_survive_nodes_killed() {
    let grid_dir = std::env::temp_dir().join(format!("ipfs-accelerate-grid-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&grid_dir);
    let port = {
        // The hub's port and the two below it (its event bus) must be free.
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port().max(1100)
    };
    let hub = format!("http://127.0.0.1:{port}");
    let started = std::time::Instant::now();
    // Four sessions per browser per node: when a node dies, the others can take all its work.
    // Three nodes: the pool kills one, the sharded model another.
    let (code, out) = accelerate(&["grid", "up", "--nodes", "3", "--sessions", "4", "--port", &port.to_string()], &grid_dir);
    let guard = GridGuard(grid_dir.clone());
    assert_eq!(code, 0, "{out}");
    eprintln!("grid up with 3 nodes in {:.1} s", started.elapsed().as_secs_f64());
    let state: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(grid_dir.join("grid.json")).unwrap()).unwrap();
    let node_pids: Vec<u32> = state["nodes"].as_array().unwrap().iter().map(|n| n["pid"].as_u64().unwrap() as u32).collect();
    assert_eq!(node_pids.len(), 3);
    let groups: Vec<u32> = node_pids.iter().copied().chain([state["hub_pid"].as_u64().unwrap() as u32]).collect();
    let (code, out) = accelerate(&["grid", "up", "--port", &port.to_string()], &grid_dir);
    assert!(code != 0 && out.contains("already running"), "{out}");

    // A benchmark through the grid: both browsers, results in DuckDB like any other run.
    let db = grid_dir.join("bench.duckdb");
    let (code, out) = accelerate(
        &[
            "bench",
            "--suite",
            "kernels-smoke",
            "--browsers",
            "chromium,firefox",
            "--backends",
            "browser-cpu",
            "--webdriver",
            &hub,
            "--db",
            db.to_str().unwrap(),
            "--report",
            grid_dir.join("report.html").to_str().unwrap(),
        ],
        &grid_dir,
    );
    assert_eq!(code, 0, "{out}");
    let store = Store::open(&db).unwrap();
    let run = store.run(None).unwrap();
    let envs = store.environments(&run.run_id).unwrap();
    assert_eq!(envs.iter().filter(|e| e.unavailable_reason.is_none()).count(), 2, "{envs:?}");
    let node_urls: Vec<String> = state["nodes"].as_array().unwrap().iter().map(|n| n["url"].as_str().unwrap().to_string()).collect();
    for env in &envs {
        let node = env.webdriver_node.as_deref().unwrap_or_else(|| panic!("{} has no node recorded", env.label()));
        assert!(node_urls.iter().any(|u| u == node), "{node} is not one of {node_urls:?}");
    }
    assert!(store.cases(&run.run_id).unwrap().iter().all(|c| c.status == "ok"), "{out}");
    drop(store);

    // A matrix spread over the grid: two cells side by side, each run recording its node.
    let matrix = grid_dir.join("matrix.toml");
    std::fs::write(
        &matrix,
        "name = \"grid\"\nmodels = [\"minilm-l3\"]\nbackends = [\"browser-cpu\"]\nbrowsers = [\"chromium\", \"firefox\"]\n\
         shapes = [\"b1×short\"]\nwarmup = 1\nsamples = 3\nparallel = 2\n",
    )
    .unwrap();
    let (code, out) =
        accelerate(&["bench", "--matrix", matrix.to_str().unwrap(), "--webdriver", &hub, "--db", db.to_str().unwrap()], &grid_dir);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("2 cell(s) run") && out.matches("on grid node http://127.0.0.1:").count() == 2, "{out}");
    let store = Store::open(&db).unwrap();
    let matrix_cases: Vec<_> = store.history(Some("minilm-l3")).unwrap().into_iter().filter(|r| r.key.shape == "b1×short").collect();
    assert_eq!(matrix_cases.len(), 2, "{matrix_cases:?}");
    assert!(matrix_cases.iter().all(|r| r.status == "ok"), "{matrix_cases:?}");
    drop(store);

    // A pool of four grid sessions; one node dies mid-run and its sessions' work moves over.
    use_webdriver_endpoints(vec![hub.clone()]).unwrap();
    let server = RunnerServer::start(wasm_pkg_dir()).await.unwrap();
    let config = PoolConfig {
        browsers: vec![BrowserKind::Chromium, BrowserKind::Chromium, BrowserKind::Firefox, BrowserKind::Firefox],
        call_timeout: Duration::from_secs(30),
        ..PoolConfig::default()
    };
    let starting = std::time::Instant::now();
    let pool = BrowserPool::start(config, &server.url()).await.unwrap_or_else(|e| panic!("{e}"));
    eprintln!("4 grid sessions started in {:.1} s", starting.elapsed().as_secs_f64());
    let request = EmbedRequest::new("/models/all-minilm-l6-v2/", vec!["The quick brown fox jumps over the lazy dog.".into()]);
    // The grid places sessions where it likes (with three nodes, maybe none on a given one):
    // the node killed is one the pool really uses.
    let victim_url = pool.slots().iter().find_map(|s| s.node()).unwrap_or_else(|| panic!("the pool's sessions run on grid nodes"));
    let victim = node_urls.iter().position(|u| *u == victim_url).map(|i| node_pids[i]).unwrap_or_else(|| panic!("{victim_url}"));
    // Killed once the pool has taken work, so requests are in flight on it.
    let kill = async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        // SAFETY: signals one process by pid.
        unsafe { libc::kill(victim as libc::pid_t, libc::SIGKILL) };
    };
    let (report, ()) = tokio::join!(drive(&pool, &request, 200, 8, None), kill);
    eprintln!(
        "200 requests over 4 grid sessions with a node killed: {} completed, {} failed, {:.1} req/s",
        report.completed.len(),
        report.failed.len(),
        report.requests_per_second()
    );
    assert_eq!(report.completed.len(), 200, "no request may be lost: {:?}", report.failed);
    assert!(pool.node_trips().contains(&victim_url), "the node breaker saw {victim_url} die: {:?}", pool.node_trips());
    for slot in pool.slots() {
        assert_ne!(slot.node().as_deref(), Some(victim_url.as_str()), "slot {} still placed on the dead node", slot.id);
    }
    // Stored as `accelerate pool` stores it: one sample per completed request, each once.
    let case = ipfs_accelerate_host::bench::pool::drive_case("200 requests over 4 grid sessions", &report, serde_json::json!({}));
    let env = ipfs_accelerate_host::bench::record::EnvRecord::new("browser-cpu", Default::default(), vec![case]);
    let record = ipfs_accelerate_host::bench::pool::pool_run_record("test", 0.0, env);
    let mut store = Store::open(&db).unwrap();
    store.insert_run(&record).unwrap();
    assert_eq!(store.sample_count(&record.run_id).unwrap(), 200);
    let (code, out) = accelerate(&["grid", "status"], &grid_dir);
    assert_eq!(code, 0, "{out}");
    let closing = std::time::Instant::now();
    pool.shutdown().await;
    eprintln!("pool shut down in {:.1} s", closing.elapsed().as_secs_f64());

    // A model sharded over the two nodes left; the node holding a stage dies whole mid-request.
    let install = detect_all().into_iter().find(|d| d.kind == BrowserKind::Chromium).and_then(|d| d.install.ok()).unwrap();
    let mut sharded = ShardedModel::start(&server, &install, &ShardSpec::new("/models/all-minilm-l6-v2/"), balanced(&[1.0; 6], 2))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let texts: Vec<String> = vec!["Sharded over a grid.".into(), "Each stage its own machine.".into()];
    let want = sharded.embed(&texts).await.unwrap_or_else(|e| panic!("{e}")).embeddings;
    let stage_node = sharded.stage_node(1).unwrap_or_else(|| panic!("stage 1 runs on a grid node"));
    assert_ne!(stage_node, victim_url, "placed on a node still alive");
    let doomed = node_urls.iter().position(|u| *u == stage_node).map(|i| node_pids[i]).unwrap();
    // SAFETY: signals one process group (the node's java, its drivers and browsers).
    unsafe { libc::kill(-(doomed as libc::pid_t), libc::SIGKILL) };
    let run = sharded.embed(&texts).await.unwrap_or_else(|e| panic!("the request must survive its stage's node dying: {e}"));
    eprintln!("sharded request with a stage's node killed: recovered in {:?} ms", run.recoveries_ms);
    assert!(!run.recoveries_ms.is_empty(), "the dead stage was relaunched");
    assert!(sharded.stage_node(1).is_some_and(|n| n != stage_node), "stage 1 moved off the dead node");
    for (got, want) in run.embeddings.iter().zip(&want) {
        let cos: f32 = got.iter().zip(want).map(|(a, b)| a * b).sum();
        assert!(cos > 0.99999, "cosine {cos} to the answer before the kill");
    }
    sharded.shutdown().await;

    assert!(!processes_in_groups(&groups).is_empty());
    drop(guard);
    for _ in 0..50 {
        if processes_in_groups(&groups).is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(processes_in_groups(&groups), Vec::<u32>::new(), "grid down leaves no hub, node, driver or browser");
    assert!(!grid_dir.join("grid.json").exists());
    let _ = std::fs::remove_dir_all(&grid_dir);
}
