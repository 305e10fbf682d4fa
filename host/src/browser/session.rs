//! A live browser: its WebDriver server, a fresh profile, and the runner page loaded.

use super::driver::DriverProcess;
use super::remote::{next_endpoint, node_holding, RemoteConnector};
use super::{capabilities, BrowserInstall, BrowserKind};
use crate::error::{Context, HostError, Result};
use crate::isolation::{self, LoopbackConnector};
use fantoccini::wd::TimeoutConfiguration;
use fantoccini::{Client, ClientBuilder};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// The longest one SDK call may take in the browser (software WebGPU is slow).
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(600);

/// Calls `window.__accelerate[method](...args)` and reports `{ok}` or `{err}` to WebDriver.
const CALL_SCRIPT: &str = r#"
const done = arguments[arguments.length - 1];
const [method, args] = [arguments[0], arguments[1]];
const run = async () => {
  for (let i = 0; i < 600 && !window.__accelerate; i++) await new Promise(r => setTimeout(r, 50));
  if (!window.__accelerate) throw new Error("runner page did not load the SDK (window.__accelerate missing)");
  await window.__accelerate.ready;
  return await window.__accelerate[method](...args);
};
run().then(ok => done({ ok }), e => done({ err: String((e && e.message) || e) }));
"#;

pub struct BrowserSession {
    pub kind: BrowserKind,
    pub version: String,
    pub flags: Vec<String>,
    client: Option<Client>,
    /// The local driver; None for a session on a remote endpoint.
    driver: Option<DriverProcess>,
    profile: Profile,
    /// The grid node running it (the endpoint itself for a lone WebDriver server), when remote.
    pub node: Option<String>,
}

/// Where the browser keeps its profile.
enum Profile {
    /// A private directory this host made for it (and deletes).
    Own(PathBuf),
    /// Made by a remote endpoint's driver; its path when the driver reported one.
    Remote(Option<PathBuf>),
}

impl Profile {
    fn path(&self) -> Option<&std::path::Path> {
        match self {
            Profile::Own(p) => Some(p),
            Profile::Remote(p) => p.as_deref(),
        }
    }

    fn remove_own(&self) {
        if let Profile::Own(p) = self {
            let _ = std::fs::remove_dir_all(p);
        }
    }
}

/// The driver never answered (as opposed to answering with a refusal, which is final).
fn unreachable_driver(e: &fantoccini::error::NewSessionError) -> bool {
    use fantoccini::error::NewSessionError::{Failed, FailedC, Lost};
    matches!(e, Failed(_) | FailedC(_) | Lost(_))
}

/// The longest ending a session may take.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// Driver starts tried before a session start that cannot reach its driver is an error.
const SESSION_ATTEMPTS: u32 = 3;
/// Session requests to a remote endpoint, and the pause between them: longer than the local
/// grid's node health check, so a dead node is known by the last try.
const REMOTE_SESSION_ATTEMPTS: u32 = 4;
const REMOTE_RETRY_PAUSE: Duration = Duration::from_secs(3);

impl BrowserSession {
    /// Start the browser headless with a fresh profile and open the runner page at `runner_url`:
    /// on the next `--webdriver` endpoint when any is named, else on a local driver.
    pub async fn launch(install: &BrowserInstall, runner_url: &str) -> Result<BrowserSession> {
        let name = install.kind.name();
        match next_endpoint() {
            Err(message) => return Err(HostError::Browser { browser: name.into(), message }),
            Ok(Some(endpoint)) => return Self::launch_remote(install, endpoint, runner_url).await,
            Ok(None) => {}
        }
        let profile = fresh_profile_dir(name)?;
        let (caps, flags) = capabilities::build(install.kind, &install.binary, Some(&profile));
        // A free port can be taken between finding it and the driver binding it (another
        // driver starting at the same moment): a session that cannot even reach its driver is
        // retried on a fresh driver and port.
        let mut attempt = 1;
        let (driver, client) = loop {
            let driver = DriverProcess::spawn(install, &profile).await?;
            let connector = LoopbackConnector(driver.loopback);
            match ClientBuilder::new(connector).capabilities(caps.clone()).connect(&driver.url()).await {
                Ok(client) => break (driver, client),
                Err(e) if attempt < SESSION_ATTEMPTS && unreachable_driver(&e) => {
                    driver.stop().await;
                    attempt += 1;
                }
                Err(e) => {
                    return Err(HostError::Browser { browser: name.into(), message: format!("could not start a WebDriver session: {e}") })
                }
            }
        };
        let version = client
            .capabilities()
            .and_then(|c| c.get("browserVersion"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| install.version.clone());
        let mut session = BrowserSession {
            kind: install.kind,
            version,
            flags,
            client: Some(client),
            driver: Some(driver),
            profile: Profile::Own(profile),
            node: None,
        };
        session.open(runner_url).await?;
        Ok(session)
    }

    /// A session created on `endpoint` (the grid picks a node whose stereotype matches).
    async fn launch_remote(install: &BrowserInstall, endpoint: &str, runner_url: &str) -> Result<BrowserSession> {
        let name = install.kind.name();
        let (caps, flags) = capabilities::build(install.kind, &install.binary, None);
        // A grid routes a request to a node it still believes alive until its next health
        // check: a node that just died fails the request, and the next try lands elsewhere.
        let mut attempt = 1;
        let client = loop {
            match ClientBuilder::new(RemoteConnector).capabilities(caps.clone()).connect(endpoint).await {
                Ok(client) => break client,
                Err(_) if attempt < REMOTE_SESSION_ATTEMPTS => {
                    tokio::time::sleep(REMOTE_RETRY_PAUSE).await;
                    attempt += 1;
                }
                Err(e) => {
                    return Err(HostError::Browser {
                        browser: name.into(),
                        message: format!("could not start a WebDriver session on {endpoint} ({attempt} tries): {e}"),
                    })
                }
            }
        };
        let returned = client.capabilities().cloned().unwrap_or_default();
        let version = returned.get("browserVersion").and_then(Value::as_str).map(str::to_string).unwrap_or_else(|| install.version.clone());
        // Where the remote driver put the profile (a local path when the node runs on this machine).
        let profile = returned
            .get("chrome")
            .and_then(|c| c.get("userDataDir"))
            .or_else(|| returned.get("moz:profile"))
            .and_then(Value::as_str)
            .map(PathBuf::from);
        let node = match client.session_id().await {
            Ok(Some(id)) => node_holding(endpoint, &id).await,
            _ => None,
        };
        let mut session = BrowserSession {
            kind: install.kind,
            version,
            flags,
            client: Some(client),
            driver: None,
            profile: Profile::Remote(profile),
            node,
        };
        if let Err(e) = session.open(runner_url).await {
            // Nothing kills a remote browser for us: end its session, or it holds a grid slot
            // until the grid's own timeout.
            let _ = session.close().await;
            return Err(e);
        }
        Ok(session)
    }

    async fn open(&mut self, url: &str) -> Result<()> {
        let client = self.client()?;
        client
            .update_timeouts(TimeoutConfiguration::new(Some(SCRIPT_TIMEOUT), Some(Duration::from_secs(60)), None))
            .await
            .map_err(|e| self.webdriver_error("setting timeouts", e))?;
        client.goto(url).await.map_err(|e| self.webdriver_error("opening the runner page", e))?;
        Ok(())
    }

    /// The WebDriver client, for driving the page itself (see `apps::Page`).
    pub fn webdriver(&self) -> Result<&Client> {
        self.client()
    }

    fn client(&self) -> Result<&Client> {
        self.client
            .as_ref()
            .ok_or_else(|| HostError::Browser { browser: self.kind.name().into(), message: "session already closed".into() })
    }

    fn webdriver_error(&self, context: &str, e: impl std::fmt::Display) -> HostError {
        HostError::WebDriver { context: format!("{} {context}", self.kind.name()), message: e.to_string() }
    }

    /// Call an RPC method of the runner page; a rejected promise becomes a `Browser` error.
    pub async fn call(&self, method: &str, args: Vec<Value>) -> Result<Value> {
        let reply = self
            .client()?
            .execute_async(CALL_SCRIPT, vec![Value::String(method.into()), Value::Array(args)])
            .await
            .map_err(|e| self.webdriver_error(&format!("calling {method}"), e))?;
        match reply {
            Value::Object(mut map) => {
                if let Some(err) = map.remove("err") {
                    let message = err.as_str().map(str::to_string).unwrap_or_else(|| err.to_string());
                    return Err(HostError::Page { browser: self.kind.name().into(), message: format!("{method}: {message}") });
                }
                Ok(map.remove("ok").unwrap_or(Value::Null))
            }
            other => Err(HostError::Browser { browser: self.kind.name().into(), message: format!("{method}: unexpected reply {other}") }),
        }
    }

    /// Process ids of this session's browser (every process started with its profile
    /// directory), for fault injection and for killing a hung browser. Linux only (/proc);
    /// empty for a remote browser on another machine.
    pub fn browser_pids(&self) -> Vec<u32> {
        let Some(profile) = self.profile.path() else { return Vec::new() };
        let profile = profile.to_string_lossy().into_owned();
        let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
        entries
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| String::from_utf8_lossy(&c).contains(profile.as_str()))
            })
            .collect()
    }

    /// The port its WebDriver server listens on (on the jail's loopback when jailed).
    pub fn driver_port(&self) -> Option<u16> {
        self.driver.as_ref().map(|d| d.port)
    }

    /// The directory the browser keeps its profile in: the private one this host made (also
    /// its home), or the one a remote driver reported.
    pub fn profile_dir(&self) -> Option<&std::path::Path> {
        self.profile.path()
    }

    /// Kill the browser's processes (SIGKILL), as a crash would. How many were signalled.
    pub fn kill_browser(&self) -> usize {
        let pids = self.browser_pids();
        kill_processes(&pids);
        pids.len()
    }

    /// End the WebDriver session (the browser exits), stop the driver, delete the profile.
    pub async fn close(mut self) -> Result<()> {
        // Bounded: a remote session whose grid node died is answered only after the grid's
        // own HTTP timeout (minutes); the session is gone either way.
        let closed = match self.client.take() {
            Some(client) => match tokio::time::timeout(CLOSE_TIMEOUT, client.close()).await {
                Ok(r) => r.map_err(|e| self.webdriver_error("closing the session", e)),
                Err(_) => Err(self.webdriver_error("closing the session", format!("no answer within {CLOSE_TIMEOUT:?}"))),
            },
            None => Ok(()),
        };
        if let Some(driver) = self.driver.take() {
            driver.stop().await;
        }
        self.profile.remove_own();
        closed
    }
}

impl Drop for BrowserSession {
    fn drop(&mut self) {
        // Dropped without `close` (a failed test, a panic): the driver is killed by its own
        // Drop, but its browser outlived it (Firefox did, for hours, holding its profile's
        // files and memory). A browser on a profile we made is ours to kill, then the profile
        // to remove.
        if self.client.is_some() && matches!(self.profile, Profile::Own(_)) {
            kill_processes(&self.browser_pids());
        }
        self.profile.remove_own();
    }
}

/// A new, private profile directory: mode 0700 (cookies and caches inside are the browser's
/// alone), named with 64 random bits (not guessable in advance), created fresh (an existing
/// path — e.g. a symlink planted there — is an error, never reused), and owned by the browser
/// user when browsers are jailed.
fn fresh_profile_dir(browser: &str) -> Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let random = &crate::server::run_token()?[..16];
    let dir = std::env::temp_dir().join(format!("ipfs-accelerate-{browser}-{}-{n}-{random}", std::process::id()));
    std::fs::DirBuilder::new().mode(0o700).create(&dir).context(format!("creating browser profile {}", dir.display()))?;
    if let Ok(jail) = isolation::jail() {
        jail.user.take_ownership(&dir).context(format!("giving {} to the browser user", dir.display()))?;
    }
    Ok(dir)
}

/// SIGKILL each process (fault injection; killing what is left of a hung browser).
pub fn kill_processes(pids: &[u32]) {
    for pid in pids {
        // A process may already be gone (a browser exits as its parent dies): not an error.
        let _ = std::process::Command::new("kill").args(["-KILL", &pid.to_string()]).stderr(std::process::Stdio::null()).status();
    }
}

#[cfg(test)]
mod tests {
    use super::fresh_profile_dir;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn profiles_are_private_and_unpredictable() {
        let (a, b) = (fresh_profile_dir("test").unwrap(), fresh_profile_dir("test").unwrap());
        for dir in [&a, &b] {
            assert_eq!(std::fs::metadata(dir).unwrap().permissions().mode() & 0o777, 0o700, "{}", dir.display());
        }
        let random = |p: &std::path::PathBuf| p.file_name().unwrap().to_string_lossy().rsplit('-').next().unwrap().to_string();
        assert_eq!(random(&a).len(), 16);
        assert_ne!(random(&a), random(&b));
        std::fs::remove_dir(&a).unwrap();
        std::fs::remove_dir(&b).unwrap();
    }
}
