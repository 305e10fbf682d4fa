//! A local Selenium Grid 4: one hub and N nodes on loopback, each on its own ports as if on N
//! machines (`accelerate grid up|status|down`). The processes outlive the command that starts
//! them: each is its own session leader (so `grid down` can stop a node with every driver and
//! browser it started), logs into `.deps/grid/`, and is listed in `.deps/grid/grid.json`. Run
//! as root, the hub and nodes drop to the unprivileged browser account first, so the browsers
//! they start keep their sandbox. Sessions reach the grid through `--webdriver URL`.

mod config;

use crate::json_get::get_json;

use crate::browser::{detect, BrowserInstall, BrowserKind};
use crate::error::{Context, HostError, Result};
use crate::isolation::{running_as_root, BrowserUser, Loopback};
use serde::{Deserialize, Serialize};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Installed by `cargo xtask setup` (xtask/src/selenium.rs).
const JAR: &str = "selenium-server-4.48.0.jar";
/// Java heap per process: the hub and each node stay near 150–200 MB resident.
const HEAP: &str = "-Xmx192m";
const READY_TIMEOUT: Duration = Duration::from_secs(90);

/// What `grid up` started, for `status` and `down`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GridState {
    pub hub_url: String,
    pub hub_pid: u32,
    pub nodes: Vec<NodeState>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeState {
    pub url: String,
    pub pid: u32,
}

/// `.deps/grid`, or `ACCELERATE_GRID_DIR` (tests run their own grid beside a developer's).
pub fn grid_dir() -> PathBuf {
    std::env::var_os("ACCELERATE_GRID_DIR").map(PathBuf::from).unwrap_or_else(|| crate::paths::deps_dir().join("grid"))
}

fn state_path() -> PathBuf {
    grid_dir().join("grid.json")
}

/// The running grid, if `grid up` started one.
pub fn current() -> Result<Option<GridState>> {
    match std::fs::read_to_string(state_path()) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| HostError::Invalid(format!("{}: {e}; run `accelerate grid down`", state_path().display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(HostError::Io { context: format!("reading {}", state_path().display()), source: e }),
    }
}

/// Start a hub on `hub_port` and `nodes` nodes, each offering `per_browser` sessions of every
/// local browser (Chromium, Firefox); returns once the hub lists every node as up.
pub async fn up(hub_port: u16, nodes: usize, per_browser: usize) -> Result<GridState> {
    if let Some(running) = current()? {
        return Err(HostError::Invalid(format!("a grid is already running at {}; `accelerate grid down` first", running.hub_url)));
    }
    if nodes == 0 || per_browser == 0 || hub_port < 1026 {
        return Err(HostError::Invalid(
            "--nodes and --sessions must be at least 1, and --port above 1025 (the event bus takes the two ports below it)".into(),
        ));
    }
    let jar = crate::paths::deps_dir().join("selenium").join(JAR);
    if !jar.is_file() {
        return Err(HostError::Invalid(format!("{} is missing; run `cargo xtask setup`", jar.display())));
    }
    let installs: Vec<BrowserInstall> = [BrowserKind::Chromium, BrowserKind::Firefox].into_iter().filter_map(|k| detect(k).ok()).collect();
    if installs.is_empty() {
        return Err(HostError::Invalid("no Chromium or Firefox with its driver on this machine for the nodes to offer".into()));
    }
    let dir = grid_dir();
    std::fs::create_dir_all(&dir).context(format!("creating {}", dir.display()))?;
    // Nodes start browsers as whoever runs them; Chromium will not start as root without
    // --no-sandbox, which a remote session never asks for. So as root they run as the account.
    let user = if running_as_root() {
        Some(
            BrowserUser::find()
                .map_err(|why| HostError::Invalid(format!("grid up as root runs the hub and nodes as the browser account, and: {why}")))?,
        )
    } else {
        None
    };
    let mut started: Vec<u32> = Vec::new();
    let result = async {
        let hub_pid = spawn(&jar, "hub", &config::hub_toml(hub_port), user, &mut started)?;
        let mut state = GridState { hub_url: format!("http://127.0.0.1:{hub_port}"), hub_pid, nodes: Vec::new() };
        for n in 0..nodes {
            let port = Loopback::Shared.free_port().context("finding a free port for a node")?;
            let pid = spawn(&jar, &format!("node-{n}"), &config::node_toml(port, hub_port, &installs, per_browser), user, &mut started)?;
            state.nodes.push(NodeState { url: format!("http://127.0.0.1:{port}"), pid });
        }
        wait_until_nodes_up(&state.hub_url, nodes).await?;
        Ok(state)
    }
    .await;
    match result {
        Ok(state) => {
            let text = serde_json::to_string_pretty(&state).map_err(|e| HostError::Invalid(e.to_string()))?;
            std::fs::write(state_path(), text).context(format!("writing {}", state_path().display()))?;
            Ok(state)
        }
        Err(e) => {
            // Nothing half-started is left behind.
            stop_groups(&started);
            Err(e)
        }
    }
}

/// Stop every process `grid up` started (each node with its drivers and browsers).
pub fn down() -> Result<Option<GridState>> {
    let Some(state) = current()? else { return Ok(None) };
    let pids: Vec<u32> = std::iter::once(state.hub_pid).chain(state.nodes.iter().map(|n| n.pid)).collect();
    stop_groups(&pids);
    std::fs::remove_file(state_path()).context(format!("removing {}", state_path().display()))?;
    Ok(Some(state))
}

/// The hub's `/status`: `value.ready`, and each node's availability and sessions in use.
pub async fn status(hub_url: &str) -> Result<serde_json::Value> {
    get_json(&format!("{hub_url}/status")).await
}

/// Nodes the hub lists as UP.
pub fn nodes_up(status: &serde_json::Value) -> usize {
    status["value"]["nodes"].as_array().map_or(0, |nodes| nodes.iter().filter(|n| n["availability"] == "UP").count())
}

async fn wait_until_nodes_up(hub_url: &str, nodes: usize) -> Result<()> {
    let start = Instant::now();
    let mut last = String::from("no answer yet");
    while start.elapsed() < READY_TIMEOUT {
        match status(hub_url).await {
            Ok(s) if s["value"]["ready"] == true && nodes_up(&s) >= nodes => return Ok(()),
            Ok(s) => last = format!("{} of {nodes} nodes up", nodes_up(&s)),
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Err(HostError::Invalid(format!(
        "the grid at {hub_url} was not ready after {READY_TIMEOUT:?} ({last}); logs in {}",
        grid_dir().display()
    )))
}

/// Start `java -jar selenium role --config <name>.toml` detached, as the browser account when
/// given, logging to `<name>.log`; its pid is pushed to `started` as soon as it exists.
fn spawn(jar: &std::path::Path, name: &str, toml: &str, user: Option<BrowserUser>, started: &mut Vec<u32>) -> Result<u32> {
    let dir = grid_dir();
    let home = dir.join(name);
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(&home).context(format!("creating {}", home.display()))?;
    let config = dir.join(format!("{name}.toml"));
    std::fs::write(&config, toml).context(format!("writing {}", config.display()))?;
    let log = std::fs::File::create(dir.join(format!("{name}.log"))).context("creating the grid log")?;
    let err_log = log.try_clone().context("sharing the grid log")?;
    if let Some(user) = user {
        user.take_ownership(&home).context(format!("giving {} to the browser user", home.display()))?;
    }
    let role = if name == "hub" { "hub" } else { "node" };
    let mut command = Command::new("java");
    command
        .args([HEAP, &format!("-Djava.io.tmpdir={}", home.display()), "-jar"])
        .arg(jar)
        .args([role, "--config"])
        .arg(&config)
        .env("SE_OFFLINE", "true")
        .env("HOME", &home)
        .env("TMPDIR", &home)
        .current_dir(&home)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err_log);
    // SAFETY: only async-signal-safe system calls run between fork and exec.
    unsafe {
        command.pre_exec(move || {
            // Its own session: outlives this command, and `down` stops its whole group.
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            user.map_or(Ok(()), BrowserUser::assume)
        });
    }
    let child = command.spawn().context(format!("starting java for the grid {name} (is openjdk-17-jre-headless installed?)"))?;
    started.push(child.id());
    Ok(child.id())
}

/// SIGTERM each process group, then SIGKILL what is still there after a few seconds.
fn stop_groups(pids: &[u32]) {
    let signal = |sig| {
        for &pid in pids {
            // SAFETY: kill with a negative pid signals that process group; no memory is touched.
            unsafe { libc::kill(-(pid as libc::pid_t), sig) };
        }
    };
    signal(libc::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(5);
    // SAFETY: signal 0 only checks that the group still exists.
    while Instant::now() < deadline && pids.iter().any(|&pid| unsafe { libc::kill(-(pid as libc::pid_t), 0) } == 0) {
        std::thread::sleep(Duration::from_millis(100));
    }
    signal(libc::SIGKILL);
}
