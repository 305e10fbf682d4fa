//! One WebDriver server process per browser instance, on a free loopback port: the jail's
//! private loopback when browsers are jailed (see `isolation`), the host's otherwise.

use super::BrowserInstall;
use crate::error::{Context, HostError, Result};
use crate::isolation::{self, Loopback};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// Starts on a fresh port when the driver exits at once: the free port found can be taken by
/// another process (another session starting in parallel) before the driver binds it.
const PORT_ATTEMPTS: usize = 3;

/// The driver process; killed when dropped.
pub struct DriverProcess {
    child: Child,
    pub port: u16,
    pub loopback: Loopback,
}

impl DriverProcess {
    /// Start the driver; `home` is the session's private directory (the browser user's home).
    pub async fn spawn(install: &BrowserInstall, home: &Path) -> Result<DriverProcess> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match Self::spawn_once(install, home).await {
                Err(Started::ExitedEarly(_)) if attempt < PORT_ATTEMPTS => continue,
                Err(Started::ExitedEarly(e) | Started::Failed(e)) => return Err(e),
                Ok(process) => return Ok(process),
            }
        }
    }

    async fn spawn_once(install: &BrowserInstall, home: &Path) -> std::result::Result<DriverProcess, Started> {
        let (driver, browser) = (&install.driver, install.kind.name());
        let loopback = Loopback::for_browsers();
        let port = loopback.free_port().context("finding a free port for WebDriver").map_err(Started::Failed)?;
        let mut command = Command::new(driver);
        command.args(&install.driver_args).envs(install.driver_env.iter().map(|(k, v)| (k, v)));
        if driver.file_name().is_some_and(|n| n == "geckodriver") {
            command.args(["--port", &port.to_string(), "--host", "127.0.0.1"]);
        } else {
            command.arg(format!("--port={port}"));
        }
        if let Ok(jail) = isolation::jail() {
            for executable in [driver, &install.binary] {
                jail.user
                    .check_can_run(executable)
                    .map_err(|message| Started::Failed(HostError::Browser { browser: browser.into(), message }))?;
            }
            jail.confine(&mut command, home);
        }
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context(format!("starting {} for {browser}", driver.display()))
            .map_err(Started::Failed)?;
        let mut process = DriverProcess { child, port, loopback };
        process.wait_ready(browser).await?;
        Ok(process)
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    async fn wait_ready(&mut self, browser: &str) -> std::result::Result<(), Started> {
        let start = Instant::now();
        while start.elapsed() < READY_TIMEOUT {
            if let Ok(Some(status)) = self.child.try_wait() {
                let message = format!("WebDriver server exited early ({status})");
                return Err(Started::ExitedEarly(HostError::Browser { browser: browser.into(), message }));
            }
            if self.loopback.connect(self.port).await.is_ok() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let message = format!("WebDriver server not listening after {READY_TIMEOUT:?}");
        Err(Started::Failed(HostError::Browser { browser: browser.into(), message }))
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// Why a driver did not start: exiting at once (worth another port) or anything else.
enum Started {
    ExitedEarly(HostError),
    Failed(HostError),
}
