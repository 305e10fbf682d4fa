//! Another local user can neither read a browser's profile nor reach its session: as root (as
//! in CI) browsers run as the dedicated browser account inside a private network namespace,
//! Chromium with its sandbox and DevTools over a pipe. Checked on the live processes of a
//! Chromium and a Firefox session, attacking as `nobody`.

use ipfs_accelerate_host::browser::{detect, BrowserKind, BrowserSession};
use ipfs_accelerate_host::isolation::{jail, running_as_root};
use ipfs_accelerate_host::paths::wasm_pkg_dir;
use ipfs_accelerate_host::server::RunnerServer;
use std::os::unix::fs::MetadataExt;
use std::process::Command;

const NOBODY: &str = "65534";

/// The TCP ports listening on loopback in the network namespace of process `pid`.
fn listening_ports(pid: u32) -> Vec<u16> {
    let table = std::fs::read_to_string(format!("/proc/{pid}/net/tcp")).unwrap_or_default();
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (local, state) = (fields.get(1)?, fields.get(3)?);
            (*state == "0A").then(|| u16::from_str_radix(local.rsplit(':').next()?, 16).ok()).flatten()
        })
        .collect()
}

/// Runs `script` with bash as `nobody`; whether it succeeded, and what it printed.
fn as_nobody(script: &str) -> (bool, String) {
    let out = Command::new("setpriv")
        .args(["--reuid", NOBODY, "--regid", NOBODY, "--clear-groups", "--", "bash", "-c", script])
        .output()
        .expect("setpriv (util-linux) runs");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn uid_of(pid: u32) -> Option<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find(|l| l.starts_with("Uid:"))?.split_whitespace().nth(1)?.parse().ok()
}

fn network_of(pid: u32) -> Option<(u64, u64)> {
    let meta = std::fs::metadata(format!("/proc/{pid}/ns/net")).ok()?;
    Some((meta.dev(), meta.ino()))
}

async fn check_isolated(kind: BrowserKind) {
    if !running_as_root() {
        eprintln!("not root: browsers run as the current user and there is no jail to check");
        return;
    }
    let jail = jail().unwrap_or_else(|why| panic!("running as root, browsers must be jailed: {why}"));
    let server = RunnerServer::start(wasm_pkg_dir()).await.unwrap();
    let install = detect(kind).unwrap_or_else(|e| panic!("{}: {e}", kind.name()));
    let session = BrowserSession::launch(&install, &server.url()).await.unwrap();
    // The page loaded over the private loopback and runs.
    let probe = session.call("probe", vec![]).await.unwrap();
    assert!(probe.is_object(), "{probe}");

    let pids = session.browser_pids();
    assert!(!pids.is_empty(), "no {} processes found", kind.name());
    for &pid in &pids {
        assert_eq!(uid_of(pid), Some(jail.user.uid), "process {pid} runs as the browser user");
        // The private namespace, or (Chromium's sandboxed children) one emptier still.
        assert_ne!(network_of(pid), network_of(std::process::id()), "process {pid} shares the host's network");
        let cmdline = String::from_utf8_lossy(&std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default()).replace('\0', " ");
        assert!(!cmdline.contains("--remote-debugging-port"), "a DevTools port is open: {cmdline}");
        if kind == BrowserKind::Chromium {
            assert!(!cmdline.contains("--no-sandbox"), "Chromium runs without its sandbox: {cmdline}");
        }
    }
    if kind == BrowserKind::Chromium {
        let all: String = pids
            .iter()
            .filter_map(|p| std::fs::read(format!("/proc/{p}/cmdline")).ok())
            .map(|c| String::from_utf8_lossy(&c).into_owned())
            .collect();
        assert!(all.contains("--remote-debugging-pipe"), "chromedriver speaks DevTools over a pipe");
    }

    let browser = *pids.iter().find(|&&p| jail.network.holds_process(p)).expect("the browser runs in the private network");

    let profile = session.profile_dir().expect("a local session has its own profile");
    let meta = std::fs::metadata(profile).unwrap();
    assert_eq!((meta.mode() & 0o777, meta.uid()), (0o700, jail.user.uid), "{}", profile.display());
    let (read, output) = as_nobody(&format!("ls -a '{}'", profile.display()));
    assert!(!read && output.contains("Permission denied"), "another user listed the profile: {output}");

    // Every port open in the browsers' network (the driver's, Marionette's, …) except the
    // runner servers', which listen on both loopbacks by design (token and Host checked): none
    // answers another user on the host's loopback.
    let runner_port = server.base_url().trim_end_matches('/').rsplit(':').next().and_then(|p| p.parse::<u16>().ok()).unwrap();
    let mirrored = listening_ports(std::process::id());
    assert!(mirrored.contains(&runner_port));
    let ports: Vec<u16> = listening_ports(browser).into_iter().filter(|p| !mirrored.contains(p)).collect();
    let driver_port = session.driver_port().unwrap();
    assert!(ports.contains(&driver_port), "the driver listens in the private network: {ports:?}");
    for port in ports {
        let (reached, output) = as_nobody(&format!("exec 3<>/dev/tcp/127.0.0.1/{port}"));
        assert!(!reached, "another user reached port {port} of a {} session: {output}", kind.name());
    }
    session.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn chromium_is_out_of_other_users_reach() {
    check_isolated(BrowserKind::Chromium).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn firefox_is_out_of_other_users_reach() {
    check_isolated(BrowserKind::Firefox).await;
}
